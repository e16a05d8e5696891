import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import {
  agentFiles,
  agentRoles,
  cloudConfig,
  resolveParams,
  secretsFor,
  terraformTemplates,
  type AgentFile,
  type AgentOptions,
  type AgentRole,
} from '../../src/agents/index.js';
import { parseJoin } from '../../src/commands/agent-config.js';
import { InputError, type InputProblem } from '../../src/errors.js';
import { dashboardExpressions, grafanaDashboard } from '../../src/monitoring/dashboard.js';
import { prometheusConfig } from '../../src/monitoring/prometheus.js';
import { targetGroups, type CatalogEntry } from '../../src/monitoring/targets.js';
import { lit, printTemplate, ref, renderTemplate, type Seg } from '../../src/agents/template.js';

const exec = promisify(execFile);
const templatesDir = 'terraform/modules/userdata/templates';
const sha = 'ab'.repeat(32);

function options(role: AgentRole, extra: Partial<AgentOptions> = {}): AgentOptions {
  return {
    role,
    join: { kind: 'cloud', provider: 'aws', tagKey: 'hashiship-join', tagValue: 'qa-server' },
    fabio: { sha256: sha },
    ...extra,
  };
}

function file(files: readonly AgentFile[], path: string): string {
  const f = files.find((x) => x.path === path);
  if (f === undefined) throw new Error(`no ${path} among ${files.map((x) => x.path).join(', ')}`);
  return f.content;
}

function problemsOf(fn: () => unknown): readonly InputProblem[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return e.problems;
    throw e;
  }
  throw new Error('expected an InputError');
}

describe('agents: template programs follow Terraform template semantics', () => {
  // Expected strings come from `terraform console` (v1.11) on the printed templates;
  // HCL scans template literals one line per token, so a strip marker removes only
  // the neighbouring line's whitespace. Regression: an earlier model stripped every
  // blank line before a directive and disagreed with Terraform.
  const program: Seg[] = [
    { t: 'lit', text: 'a\n\n  ' },
    {
      t: 'if',
      test: ref('x'),
      then: [
        { t: 'lit', text: '\n  b = ' },
        { t: 'val', expr: ref('v'), enc: 'json' },
        { t: 'lit', text: '\n  ' },
      ],
      else: [],
    },
    { t: 'lit', text: '\nd\n' },
  ];

  it('prints directives on their own line with strip markers', () => {
    expect(printTemplate(program)).to.equal('a\n\n  %{~ if x ~}\n  b = ${jsonencode(v)}\n  %{~ endif ~}\nd\n');
  });

  it('renders the taken and the skipped branch as templatefile() does', () => {
    expect(renderTemplate(program, { x: true, v: 'q"<' })).to.equal('a\n\n  b = "q\\"\\u003c"\nd\n');
    expect(renderTemplate(program, { x: false, v: '' })).to.equal('a\n\nd\n');
  });

  it('escapes literal ${ and %{ so Terraform leaves them alone', () => {
    expect(printTemplate([{ t: 'lit', text: 'echo "${HOME}" %{x}' }])).to.equal('echo "$${HOME}" %%{x}');
    expect(renderTemplate([{ t: 'lit', text: 'echo "${HOME}"' }], {})).to.equal('echo "${HOME}"');
  });

  it('repeats loop bodies per item', () => {
    const loop: Seg[] = [
      { t: 'lit', text: 'x\n  ' },
      {
        t: 'for',
        var: 'a',
        list: ref('l'),
        body: [
          { t: 'lit', text: '\n  - ' },
          { t: 'val', expr: ref('a'), enc: 'raw' },
          { t: 'lit', text: '\n  ' },
        ],
      },
      { t: 'lit', text: '\ny\n' },
    ];
    expect(renderTemplate(loop, { l: ['p', 'q'] })).to.equal('x\n  - p\n  - q\ny\n');
    expect(printTemplate(loop)).to.contain('%{~ for a in l ~}');
    expect(printTemplate([{ t: 'val', expr: lit([1, 'b']), enc: 'json' }])).to.equal('${jsonencode([1, "b"])}');
  });
});

describe('agents: options', () => {
  it('collects every problem, each naming its option', () => {
    const problems = problemsOf(() =>
      resolveParams({
        role: 'client',
        datacenter: 'DC 1',
        bootstrapExpect: 4,
        join: { kind: 'cloud', provider: 'aws', tagKey: 'k k', tagValue: '' },
        hostVolumes: [{ name: 'Data', path: 'relative' }],
        secrets: { source: 'ssm', prefix: 'no-slash/' },
      }),
    );
    expect(problems.map((p) => p.subject)).to.include.members([
      'datacenter',
      'bootstrapExpect',
      'join.tagKey',
      'join.tagValue',
      'hostVolumes[0].name',
      'hostVolumes[0].path',
      'secrets.prefix',
      'fabio.sha256',
    ]);
  });

  it('needs a verified Fabio on clients only', () => {
    expect(problemsOf(() => resolveParams({ ...options('client'), fabio: {} })).map((p) => p.subject)).to.deep.equal(['fabio.sha256']);
    expect(() => resolveParams({ ...options('server'), fabio: {} })).not.to.throw();
  });

  it('parses --join as a cloud tag or static addresses', () => {
    const problems: InputProblem[] = [];
    expect(parseJoin('--join', 'aws:hashiship-join=qa-server', problems)).to.deep.equal({
      kind: 'cloud',
      provider: 'aws',
      tagKey: 'hashiship-join',
      tagValue: 'qa-server',
    });
    expect(parseJoin('--join', '10.0.0.1, 10.0.0.2', problems)).to.deep.equal({ kind: 'static', addresses: ['10.0.0.1', '10.0.0.2'] });
    expect(parseJoin('--join', 'aws:novalue', problems)).to.equal(undefined);
    expect(problems).to.have.length(1);
  });
});

describe('agents: files per role', () => {
  it('servers run Consul and Nomad servers; clients add Fabio; Vault nodes run Vault and a Consul client', () => {
    const paths = (role: AgentRole) => agentFiles(options(role)).map((f) => f.path);
    expect(paths('server')).to.include.members(['/etc/consul.d/consul.hcl', '/etc/nomad.d/nomad.hcl', '/etc/systemd/system/nomad.service']);
    expect(paths('server')).not.to.include('/etc/fabio/fabio.properties');
    expect(paths('client')).to.include.members(['/etc/fabio/fabio.properties', '/etc/systemd/system/fabio.service']);
    expect(paths('vault')).to.include.members(['/etc/vault.d/vault.hcl', '/etc/systemd/system/vault.service']);
    expect(paths('vault')).not.to.include('/etc/nomad.d/nomad.hcl');
  });

  it('puts the join string, bootstrap_expect and default-deny ACLs into the server configs', () => {
    const files = agentFiles(options('server', { bootstrapExpect: 5 }));
    const consul = file(files, '/etc/consul.d/consul.hcl');
    expect(consul).to.match(/^retry_join += \["provider=aws tag_key=hashiship-join tag_value=qa-server"\]$/m);
    expect(consul).to.match(/^bootstrap_expect += 5$/m);
    expect(consul).to.match(/default_policy += "deny"/);
    expect(consul).to.match(/prometheus_retention_time = "60s"/);
    const nomad = file(files, '/etc/nomad.d/nomad.hcl');
    expect(nomad).to.match(/bootstrap_expect += 5/);
    expect(nomad).to.match(/prometheus_metrics += true/);
    expect(nomad).to.contain('default_identity {');
    expect(nomad).to.contain('jwt_auth_backend_path = "jwt-nomad"');
  });

  it('leaves tls and acl blocks out when they are off, and static joins list addresses', () => {
    const files = agentFiles(options('client', { tls: false, acl: false, join: { kind: 'static', addresses: ['10.0.0.1', '10.0.0.2'] } }));
    for (const path of ['/etc/consul.d/consul.hcl', '/etc/nomad.d/nomad.hcl']) {
      const text = file(files, path);
      expect(text, path).not.to.match(/^tls \{/m);
      expect(text, path).not.to.match(/^acl \{/m);
      expect(text, path).to.contain('["10.0.0.1","10.0.0.2"]');
    }
    expect(file(files, '/etc/nomad.d/nomad.hcl')).to.contain('address               = "http://vault.service.consul:8200"');
  });

  it('renders host volumes and optional drivers on clients', () => {
    const nomad = file(
      agentFiles(options('client', { rawExec: true, hostVolumes: [{ name: 'data', path: '/srv/data', readOnly: true }] })),
      '/etc/nomad.d/nomad.hcl',
    );
    expect(nomad).to.contain('host_volume "data" {\n    path      = "/srv/data"\n    read_only = true\n  }');
    expect(nomad).to.contain('plugin "raw_exec" {');
    expect(nomad).to.contain('plugin "docker" {');
    expect(file(agentFiles(options('client')), '/etc/nomad.d/nomad.hcl')).not.to.contain('raw_exec');
  });

  it('raft joins Vault peers by tag or by address, with the scheme TLS asks for', () => {
    const cloud = file(
      agentFiles(options('vault', { vaultJoin: { kind: 'cloud', provider: 'aws', tagKey: 'j', tagValue: 'qa-vault' } })),
      '/etc/vault.d/vault.hcl',
    );
    expect(cloud).to.contain('auto_join        = "provider=aws tag_key=j tag_value=qa-vault"');
    expect(cloud).to.contain('auto_join_scheme = "https"');
    const fixed = file(
      agentFiles(options('vault', { tls: false, vaultJoin: { kind: 'static', addresses: ['10.0.0.5', '10.0.0.6'] } })),
      '/etc/vault.d/vault.hcl',
    );
    expect(fixed.match(/retry_join \{/g)).to.have.length(2);
    expect(fixed).to.contain('leader_api_addr = "http://10.0.0.6:8200"');
    expect(fixed).to.contain('tls_disable = true');
  });

  it('references secrets by name only: no key or token can reach a config file or user data', () => {
    for (const role of agentRoles) {
      const text = cloudConfig(options(role, { secrets: { source: 'ssm', prefix: '/hashiship/qa' } }));
      expect(text).to.contain("SECRET_PREFIX='/hashiship/qa'");
      expect(text).not.to.match(/encrypt\s*=\s*"[A-Za-z0-9+/]{20,}/);
      expect(text).not.to.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
      for (const s of secretsFor(role)) expect(text).to.contain(`secret ${s.name} `);
    }
  });

  it('produces cloud-config YAML that parses, with every file and the boot command', () => {
    for (const role of agentRoles) {
      const text = cloudConfig(options(role));
      expect(text.startsWith('#cloud-config\n')).to.equal(true);
      const doc = parse(text) as { write_files: { path: string; content: string; permissions: string }[]; runcmd: string[][] };
      const files = agentFiles(options(role));
      expect(doc.write_files.map((f) => f.path)).to.deep.equal(files.map((f) => f.path));
      for (const f of files) {
        expect(doc.write_files.find((w) => w.path === f.path)?.content, f.path).to.equal(f.content);
      }
      expect(doc.runcmd).to.deep.equal([['/usr/local/sbin/hashiship-boot', 'all']]);
    }
  });
});

describe('agents: terraform/modules/userdata/templates', () => {
  // Golden files: the userdata module must render what the generator describes.
  // Regenerate with: npx tsx src/cli.ts agent-config --terraform-templates terraform/modules/userdata/templates
  it('are up to date with the generator', () => {
    for (const [name, content] of Object.entries(terraformTemplates())) {
      expect(readFileSync(`${templatesDir}/${name}`, 'utf8'), name).to.equal(content);
    }
    const secrets = JSON.parse(readFileSync(`${templatesDir}/secrets.json`, 'utf8')) as Record<string, { name: string; when: string }[]>;
    for (const role of agentRoles) {
      expect(secrets[role], role).to.deep.equal(secretsFor(role).map((s) => ({ name: s.name, when: s.when })));
    }
  });
});

describe('monitoring: prometheus configuration', () => {
  type Job = {
    job_name: string;
    scheme?: string;
    metrics_path?: string;
    consul_sd_configs: { server: string; services?: string[]; tags?: string[]; authorization?: { credentials_file: string } }[];
    relabel_configs: { replacement?: string; target_label: string }[];
    tls_config?: { ca_file: string };
    authorization?: { credentials_file: string };
  };
  const jobs = (text: string) => (parse(text) as { scrape_configs: Job[] }).scrape_configs;

  it('discovers Consul agents, Nomad servers and clients, Vault, Fabio and tagged services through Consul', () => {
    const all = jobs(prometheusConfig());
    expect(all.map((j) => j.job_name)).to.deep.equal(['consul', 'nomad-servers', 'nomad-clients', 'vault', 'fabio', 'services']);
    const nomad = all.find((j) => j.job_name === 'nomad-clients')!;
    expect(nomad.consul_sd_configs[0]).to.include({ server: '127.0.0.1:8500' });
    expect(nomad.consul_sd_configs[0]!.services).to.deep.equal(['nomad-client']);
    expect(nomad.metrics_path).to.equal('/v1/metrics');
    const consul = all.find((j) => j.job_name === 'consul')!;
    expect(consul.relabel_configs[0]).to.include({ replacement: '$1:8500', target_label: '__address__' });
  });

  it('scrapes HTTPS with the CA and reads the Consul token from a file when TLS and ACLs are on', () => {
    const all = jobs(prometheusConfig({ tls: { caFile: '/etc/prometheus/ca.pem' }, consulTokenFile: '/etc/prometheus/consul-token' }));
    const consul = all.find((j) => j.job_name === 'consul')!;
    expect(consul.scheme).to.equal('https');
    expect(consul.tls_config).to.deep.equal({ ca_file: '/etc/prometheus/ca.pem' });
    expect(consul.relabel_configs[0]!.replacement).to.equal('$1:8501');
    expect(consul.authorization).to.deep.include({ credentials_file: '/etc/prometheus/consul-token' });
    expect(consul.consul_sd_configs[0]!.authorization).to.deep.include({ credentials_file: '/etc/prometheus/consul-token' });
    expect(all.find((j) => j.job_name === 'nomad-servers')!.scheme).to.equal('https');
  });

  it('writes no YAML anchors (readable, and what promtool expects people to edit)', () => {
    expect(prometheusConfig({ consulTokenFile: '/t' })).not.to.match(/[&*]a\d/);
  });

  it('with file discovery, reads one target file per job instead of asking Consul', () => {
    const all = jobs(prometheusConfig({ discovery: { kind: 'file', dir: '/etc/prometheus/targets' } })) as unknown as Record<string, unknown>[];
    for (const job of all) {
      expect(job['file_sd_configs'], String(job['job_name'])).to.deep.equal([{ files: [`/etc/prometheus/targets/${String(job['job_name'])}.json`] }]);
      expect(job['consul_sd_configs']).to.equal(undefined);
    }
  });

  it('maps the catalog to targets as the consul_sd relabelling does', () => {
    const e = (ServiceName: string, Node: string, Address: string, ServicePort: number, ServiceTags: string[], ServiceMeta = {}): CatalogEntry => ({
      ServiceName,
      Node,
      Address,
      ServicePort,
      ServiceTags,
      ServiceMeta,
      Datacenter: 'qa',
    });
    const groups = targetGroups({
      consul: [e('consul', 'm1', '10.0.0.1', 8300, [])],
      nomad: [e('nomad', 'm1', '10.0.0.1', 4646, ['http']), e('nomad', 'm1', '10.0.0.1', 4647, ['rpc'])],
      'nomad-client': [e('nomad-client', 'w1', '10.0.1.1', 4646, ['http'])],
      fabio: [e('fabio', 'w1', '10.0.1.1', 9998, [])],
      web: [e('web', 'w1', '10.0.1.1', 23456, ['metrics', 'urlprefix-/'], { metrics_path: '/internal/metrics' }), e('web', 'w1', '10.0.1.1', 23457, [])],
    });
    expect(groups.consul).to.deep.equal([
      { targets: ['10.0.0.1:8500'], labels: { node: 'm1', datacenter: 'qa', instance: 'm1' } },
      { targets: ['10.0.1.1:8500'], labels: { node: 'w1', datacenter: 'qa', instance: 'w1' } },
    ]);
    expect(groups['nomad-servers']).to.deep.equal([{ targets: ['10.0.0.1:4646'], labels: { node: 'm1', datacenter: 'qa' } }]);
    expect(groups['nomad-clients'][0]!.targets).to.deep.equal(['10.0.1.1:4646']);
    expect(groups.fabio[0]!.targets).to.deep.equal(['10.0.1.1:9102']);
    expect(groups.services).to.deep.equal([
      { targets: ['10.0.1.1:23456'], labels: { service: 'web', node: 'w1', datacenter: 'qa', __metrics_path__: '/internal/metrics' } },
    ]);
    expect(groups.vault).to.deep.equal([]);
    expect(targetGroups({ consul: [e('consul', 'm1', '10.0.0.1', 8300, [])] }, { tls: { caFile: '/ca.pem' } }).consul[0]!.targets).to.deep.equal([
      '10.0.0.1:8501',
    ]);
  });

  it('rejects malformed options with every problem listed', () => {
    expect(
      problemsOf(() => prometheusConfig({ consulAddress: 'consul', scrapeInterval: 'often', consulTokenFile: 'token' })).map((p) => p.subject),
    ).to.deep.equal(['consulAddress', 'scrapeInterval', 'consulTokenFile']);
  });
});

describe('monitoring: grafana dashboard', () => {
  it('has rows for cluster health and deployments, every panel querying the Prometheus data source', () => {
    const d = grafanaDashboard() as {
      panels: { type: string; title: string; gridPos: { w: number; x: number }; targets?: { expr: string; refId: string }[] }[];
    };
    expect(d.panels.filter((p) => p.type === 'row').map((p) => p.title)).to.deep.equal(['Cluster health', 'Deployments']);
    const panels = d.panels.filter((p) => p.type !== 'row');
    expect(panels.length).to.be.greaterThan(8);
    for (const p of panels) {
      expect(p.targets, p.title).to.be.an('array').that.is.not.empty;
      expect(p.gridPos.x + p.gridPos.w, p.title).to.be.at.most(24);
    }
    expect(new Set(d.panels.map((p) => (p as unknown as { id: number }).id)).size).to.equal(d.panels.length);
    expect(dashboardExpressions().join('\n')).to.contain('nomad_nomad_job_summary_running');
  });
});

describe('cli: hashiship agent-config', () => {
  async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const r = await exec(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'agent-config', ...args]);
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  it('prints a role as cloud-init user data', async () => {
    const r = await cli(['server', '--join', 'aws:hashiship-join=qa-server', '--format', 'cloud-init', '--bootstrap-expect', '5']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout.startsWith('#cloud-config\n')).to.equal(true);
    expect(r.stdout).to.match(/bootstrap_expect += 5/);
  });

  it('exits 1 and names every bad flag', async () => {
    const r = await cli(['client', '--join', 'aws:broken', '--bootstrap-expect', '2', '--secrets', 'vault:/x']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('--join');
    expect(r.stderr).to.contain('--secrets');
  });

  it('prints the Prometheus configuration', async () => {
    const r = await cli(['prometheus', '--consul', '10.0.0.1:8500']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('server: 10.0.0.1:8500');
  });
});
