/**
 * `hashiship agent-config <role>`: Consul, Nomad, Vault and Fabio configuration,
 * systemd units and the first-boot script for a cluster role, as files, as
 * cloud-init user data or as JSON; `prometheus` for the Prometheus configuration
 * and `prometheus-targets` for its file-based targets read from Consul's catalog;
 * `grafana-dashboard` for a dashboard of cluster health and deployments;
 * `--terraform-templates <dir>` regenerates terraform/modules/userdata/templates.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import {
  agentFiles,
  agentRoles,
  cloudConfig,
  secretsFor,
  terraformTemplates,
  type AgentOptions,
  type AgentRole,
  type HostVolume,
  type Join,
} from '../agents/index.js';
import { InputError, type InputProblem } from '../errors.js';
import { grafanaDashboard } from '../monitoring/dashboard.js';
import { prometheusConfig } from '../monitoring/prometheus.js';
import { readCatalog, targetGroups, writeTargetFiles } from '../monitoring/targets.js';
import { outDir, refuseInapplicable, serverFlags } from './flags.js';
import { run, type RunContext } from './runner.js';

interface Flags {
  datacenter?: string;
  region?: string;
  awsRegion?: string;
  join?: string;
  vaultJoin?: string;
  bootstrapExpect?: string;
  tls: boolean;
  acl: boolean;
  rawExec?: boolean;
  java?: boolean;
  hostVolume: string[];
  vaultAddress?: string;
  vaultKmsKey?: string;
  secrets?: string;
  fabioUrl?: string;
  fabioSha256?: string;
  consul?: string;
  caFile?: string;
  consulTokenFile?: string;
  targetsDir?: string;
  format: string;
  out?: string;
  terraformTemplates?: string;
}

/** `aws:KEY=VALUE` → cloud auto-join by tag; `a,b,c` → static addresses. */
export function parseJoin(flag: string, value: string, problems: InputProblem[]): Join | undefined {
  const cloud = /^aws:([^=]+)=(.+)$/.exec(value);
  if (cloud !== null) return { kind: 'cloud', provider: 'aws', tagKey: cloud[1]!, tagValue: cloud[2]! };
  const addresses = value
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  if (addresses.length === 0 || value.startsWith('aws:')) {
    problems.push({ subject: flag, message: 'must be aws:TAG_KEY=TAG_VALUE or a comma-separated list of server addresses' });
    return undefined;
  }
  return { kind: 'static', addresses };
}

function parseVolume(value: string, i: number, problems: InputProblem[]): HostVolume | undefined {
  const m = /^([^=]+)=([^:]+)(:ro)?$/.exec(value);
  if (m === null) {
    problems.push({ subject: `--host-volume[${i}]`, message: 'must be NAME=PATH or NAME=PATH:ro' });
    return undefined;
  }
  return { name: m[1]!, path: m[2]!, readOnly: m[3] !== undefined };
}

function optionsFrom(role: AgentRole, f: Flags): AgentOptions {
  const problems: InputProblem[] = [];
  if (f.join === undefined) problems.push({ subject: '--join', message: 'is required: aws:TAG_KEY=TAG_VALUE or addresses' });
  const join = f.join === undefined ? undefined : parseJoin('--join', f.join, problems);
  const vaultJoin = f.vaultJoin === undefined ? undefined : parseJoin('--vault-join', f.vaultJoin, problems);
  const volumes = f.hostVolume.map((v, i) => parseVolume(v, i, problems));
  let secrets: AgentOptions['secrets'];
  if (f.secrets !== undefined) {
    const m = /^(ssm|file):(\/.*)$/.exec(f.secrets);
    if (m === null) problems.push({ subject: '--secrets', message: 'must be ssm:/PARAMETER/PATH or file:/DIRECTORY' });
    else secrets = { source: m[1] as 'ssm' | 'file', prefix: m[2]! };
  }
  const expect = f.bootstrapExpect === undefined ? undefined : Number(f.bootstrapExpect);
  if (f.format !== 'files' && f.format !== 'cloud-init' && f.format !== 'json') {
    problems.push({ subject: '--format', message: 'must be files, cloud-init or json' });
  }
  if (problems.length > 0 || join === undefined) throw new InputError(problems);
  return {
    role,
    join,
    tls: f.tls,
    acl: f.acl,
    hostVolumes: volumes.filter((v): v is HostVolume => v !== undefined),
    ...(f.datacenter === undefined ? {} : { datacenter: f.datacenter }),
    ...(f.region === undefined ? {} : { region: f.region }),
    ...(f.awsRegion === undefined ? {} : { awsRegion: f.awsRegion }),
    ...(vaultJoin === undefined ? {} : { vaultJoin }),
    ...(expect === undefined ? {} : { bootstrapExpect: expect }),
    ...(f.rawExec === true ? { rawExec: true } : {}),
    ...(f.java === true ? { java: true } : {}),
    ...(f.vaultAddress === undefined ? {} : { vaultAddress: f.vaultAddress }),
    ...(f.vaultKmsKey === undefined ? {} : { vaultSeal: { type: 'awskms', kmsKeyId: f.vaultKmsKey } as const }),
    ...(secrets === undefined ? {} : { secrets }),
    fabio: {
      ...(f.fabioUrl === undefined ? {} : { url: f.fabioUrl }),
      ...(f.fabioSha256 === undefined ? {} : { sha256: f.fabioSha256 }),
    },
  };
}

/** The library's option names → this command's flags, for messages. */
const FLAG_OF: readonly (readonly [RegExp, string])[] = [
  [/^role$/, '<role>'],
  [/^datacenter$/, '--datacenter'],
  [/^region$/, '--region'],
  [/^awsRegion$/, '--aws-region'],
  [/^bootstrapExpect$/, '--bootstrap-expect'],
  [/^join(\..*)?$/, '--join'],
  [/^vaultJoin(\..*)?$/, '--vault-join'],
  [/^hostVolumes\[(\d+)\].*$/, '--host-volume[$1]'],
  [/^vaultAddress$/, '--vault-address'],
  [/^secrets(\..*)?$/, '--secrets'],
  [/^vaultSeal(\..*)?$/, '--vault-kms-key'],
  [/^fabio\.sha256$/, '--fabio-sha256'],
  [/^fabio\.url$/, '--fabio-url'],
  [/^consulAddress$/, '--consul'],
  [/^caFile$/, '--ca-file'],
  [/^consulTokenFile$/, '--consul-token-file'],
  [/^discovery\.dir$/, '--targets-dir'],
];

/**
 * Run `fn`, naming the flags (`--bootstrap-expect`) instead of the library's option
 * names (`bootstrapExpect`) in the problems it reports.
 */
function asFlags<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    const problems = err.problems.map((p) => {
      const m = FLAG_OF.find(([re]) => re.test(p.subject));
      return m === undefined ? p : { ...p, subject: p.subject.replace(m[0], m[1]) };
    });
    throw new InputError(problems);
  }
}

async function writeUnder(root: string, path: string, content: string, mode: string): Promise<string> {
  const dest = join(root, path);
  await mkdir(dirname(dest), { recursive: true });
  await writeFile(dest, content, { mode: parseInt(mode, 8) });
  return dest;
}

export function registerAgentConfig(program: Command): void {
  const cmd = program
    .command('agent-config')
    .description(`agent configuration for a cluster role (${agentRoles.join(', ')}), or "prometheus"; secrets are fetched at boot, never embedded`)
    .argument('[role]', `${agentRoles.join(' | ')} | prometheus | prometheus-targets | grafana-dashboard`)
    .option('--datacenter <name>', 'Consul and Nomad datacenter (default dc1)')
    .option('--region <name>', 'Nomad region (default global)')
    .option('--aws-region <name>', 'AWS region for SSM secrets and the KMS seal (default us-east-1)')
    .option('--join <spec>', 'how agents find the servers: aws:TAG_KEY=TAG_VALUE or ADDR,ADDR,…')
    .option('--vault-join <spec>', 'how Vault servers find each other (default: --join)')
    .option('--bootstrap-expect <n>', 'servers expected before electing a leader (default 3)')
    .option('--no-tls', 'no TLS (default: TLS on RPC and HTTP)')
    .option('--no-acl', 'no ACLs (default: enabled, default deny)')
    .option('--raw-exec', "enable Nomad's raw_exec driver on clients")
    .option('--java', "install a JRE for Nomad's java driver on clients")
    .option('--host-volume <name=path[:ro]>', 'a Nomad client host volume (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--vault-address <url>', 'Vault as Nomad reaches it (default <scheme>://vault.service.consul:8200)')
    .option('--vault-kms-key <id>', 'AWS KMS key for Vault auto-unseal (default: Shamir)')
    .option('--secrets <source:prefix>', 'ssm:/PARAMETER/PATH or file:/DIRECTORY (default file:/etc/hashiship/secrets)')
    .option('--fabio-url <url>', 'Fabio binary to install on clients')
    .option('--fabio-sha256 <hex>', 'SHA-256 of the Fabio binary (required for clients)')
    .option('--consul <host:port>', 'prometheus: the Consul agent to discover targets through (default 127.0.0.1:8500)')
    .option('--ca-file <path>', "prometheus: CA of the agents' HTTPS (with TLS)")
    .option('--consul-token-file <path>', 'prometheus: file holding a Consul token (with ACLs)')
    .option(
      '--targets-dir <dir>',
      "prometheus: discover through files in this directory (for builds without Consul SD, e.g. Debian's); prometheus-targets: write them there",
    )
    .option('--format <format>', 'files | cloud-init | json', 'files')
    .option('--out <dir>', 'write the files under this directory instead of printing them')
    .option('--terraform-templates <dir>', 'write the Terraform templates of every role into this directory');
  // Only prometheus-targets reads Consul (its catalog), on first use.
  serverFlags(cmd, ['consul'], { always: false });
  cmd.action(
    run(async (c: RunContext<Flags>, role: string | undefined) => {
      const f = c.opts;
      if (role !== 'prometheus-targets') refuseInapplicable(c.cmd, ['consulAddr', 'consulToken'], 'only agent-config prometheus-targets reads Consul');
      outDir('--out', f.out);
      outDir('--terraform-templates', f.terraformTemplates);
      outDir('--targets-dir', role === 'prometheus-targets' ? f.targetsDir : undefined);
      if (f.terraformTemplates !== undefined) {
        const written: string[] = [];
        for (const [name, content] of Object.entries(terraformTemplates())) {
          written.push(await writeUnder(f.terraformTemplates, name, content, '0644'));
        }
        const secrets = Object.fromEntries(agentRoles.map((r) => [r, secretsFor(r).map((s) => ({ name: s.name, when: s.when }))]));
        written.push(await writeUnder(f.terraformTemplates, 'secrets.json', `${JSON.stringify(secrets, null, 2)}\n`, '0644'));
        c.out(`${written.join('\n')}\n`);
        return;
      }
      const promOptions = {
        ...(f.consul === undefined ? {} : { consulAddress: f.consul }),
        ...(f.datacenter === undefined ? {} : { datacenter: f.datacenter }),
        ...(f.tls && f.caFile !== undefined ? { tls: { caFile: f.caFile } } : {}),
        ...(f.acl && f.consulTokenFile !== undefined ? { consulTokenFile: f.consulTokenFile } : {}),
        ...(f.targetsDir === undefined ? {} : { discovery: { kind: 'file', dir: f.targetsDir } as const }),
      };
      if (role === 'prometheus-targets') {
        // Reads Consul's catalog (CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN, … as the consul CLI does).
        if (f.targetsDir === undefined) throw new InputError([{ subject: '--targets-dir', message: 'is required for prometheus-targets' }]);
        const groups = targetGroups(await readCatalog((await c.clients()).consul, f.datacenter), promOptions);
        for (const path of await writeTargetFiles(f.targetsDir, groups)) c.out(`${path}\n`);
        return;
      }
      if (role === 'grafana-dashboard') {
        const text = `${JSON.stringify(grafanaDashboard(), null, 2)}\n`;
        if (f.out !== undefined) c.out(`${await writeUnder(f.out, 'hashiship-dashboard.json', text, '0644')}\n`);
        else c.verbatim(text);
        return;
      }
      if (role === 'prometheus') {
        const text = asFlags(() => prometheusConfig(promOptions));
        if (f.out !== undefined) c.out(`${await writeUnder(f.out, 'prometheus.yml', text, '0644')}\n`);
        else c.verbatim(text);
        return;
      }
      if (role === undefined || !(agentRoles as readonly string[]).includes(role)) {
        throw new InputError([{ subject: 'role', message: `must be one of ${agentRoles.join(', ')}, prometheus, prometheus-targets, grafana-dashboard` }]);
      }
      const options = optionsFrom(role as AgentRole, f);
      if (f.format === 'cloud-init') {
        const text = asFlags(() => cloudConfig(options));
        if (f.out !== undefined) c.out(`${await writeUnder(f.out, 'user-data.yaml', text, '0644')}\n`);
        else c.verbatim(text);
        return;
      }
      const files = asFlags(() => agentFiles(options));
      if (f.format === 'json') {
        c.out(`${JSON.stringify(files, null, 2)}\n`);
      } else if (f.out !== undefined) {
        for (const file of files) c.out(`${await writeUnder(f.out, file.path, file.content, file.mode)}\n`);
      } else {
        for (const file of files) c.verbatim(`==> ${file.path} (${file.mode}) <==\n${file.content}\n`);
      }
    }),
  );
}
