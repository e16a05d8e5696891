/**
 * `hashiship secrets policy --env <env> [--apply] [services…]`: each service's
 * read-only Vault policy (and, with `--apply`, the policy and its JWT role written
 * to Vault). `hashiship secrets check --env <env> [services…]`: the pre-flight —
 * exit 6 listing every missing or denied path, never a value or a token.
 * `hashiship secrets put <path> --from-file <json>` and `secrets get <path>`: KV v1/v2
 * for bootstrap runbooks; put never echoes a value, get prints key names unless
 * `--field` asks for one value.
 */
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import type { ResolvedService } from '../service-spec/overlay.js';
import { serverFlags } from './flags.js';
import { run, type RunContext } from './runner.js';

/** The largest `secrets put --from-file` read (a KV secret's keys; Vault's own request limit is 32 MiB). */
const SecretsFileBytes = 1024 * 1024;

interface SecretsFlags {
  readonly env: string;
  readonly services: string;
  readonly environments: string;
  readonly json?: boolean;
  readonly apply?: boolean;
}

async function resolve(o: SecretsFlags, names: readonly string[]): Promise<ResolvedService[]> {
  const { servicesFromSpecs } = await import('../deploy/inputs.js');
  return servicesFromSpecs(o.env, names, { services: o.services, environments: o.environments });
}

function common(cmd: Command, servers: readonly ('vault' | 'consul')[]): Command {
  return serverFlags(
    cmd
      .requiredOption('--env <name>', 'environment')
      .option('--services <dir>', 'service specs', 'jobs/services')
      .option('--environments <dir>', 'environment files', 'jobs/environments')
      .option('--json', 'print one JSON document')
      .argument('[names...]', 'only these services (default: every service of the environment)'),
    servers,
  );
}

export function registerSecrets(program: Command): void {
  const secrets = program.command('secrets').description("services' Vault policies, the secrets pre-flight, KV put/get for runbooks");
  registerSecretsKv(secrets);

  common(secrets.command('policy'), ['vault'])
    .description("print each service's read-only Vault policy; --apply writes it with its workload-identity role")
    .option('--apply', 'write the policies and JWT roles to Vault')
    .action(
      run(async (c: RunContext<SecretsFlags>, names: string[]) => {
        const o = c.opts;
        const [{ servicePolicies, jwtRole, sharedRoles }, { applyPolicies }] = await Promise.all([
          import('../vault/policy.js'),
          import('../vault/preflight.js'),
        ]);
        const policies = servicePolicies(await resolve(o, names));
        if (o.apply === true) {
          const { withVault } = await import('../vault/auth.js');
          await withVault((await c.clients()).vault, (session) => applyPolicies(session.client, policies));
        }
        if (o.json === true) {
          const doc = policies.map((p) => ({ service: p.service, policy: p.name, role: p.role, paths: p.paths, hcl: p.hcl, jwtRole: jwtRole(p) }));
          c.out(`${JSON.stringify({ kind: 'hashiship.secrets.policy', environment: o.env, applied: o.apply === true, policies: doc }, null, 2)}\n`);
          return;
        }
        if (policies.length === 0) c.out(`no service of ${o.env} references Vault secrets\n`);
        for (const p of policies) {
          c.out(`# policy ${p.name} (role ${p.role}, job ${p.jobId})\n${p.hcl}\n`);
          if (o.apply === true) c.out(`wrote sys/policies/acl/${p.name} and auth/jwt-nomad/role/${p.role}\n\n`);
        }
        for (const [role, services] of sharedRoles(policies)) {
          c.out(`note: role ${role} is shared by ${services.join(', ')}; --apply needs one role per service (vault_role under services.<name>)\n`);
        }
      }),
    );

  common(secrets.command('check'), ['vault', 'consul'])
    .description('pre-flight: every referenced secret and Consul key exists and the service policy can read it (exit 6 otherwise)')
    .action(
      run(async (c: RunContext<SecretsFlags>, names: string[]) => {
        const o = c.opts;
        const [{ servicePolicy }, { requireSecrets }, { withVault }] = await Promise.all([
          import('../vault/policy.js'),
          import('../vault/preflight.js'),
          import('../vault/auth.js'),
        ]);
        const policies = (await resolve(o, names)).map(servicePolicy).filter((p) => p.secrets.length + p.kv.length > 0);
        const { vault, consul } = await c.clients();
        const report = await withVault(vault, (session) => requireSecrets({ vault: session.client, consul }, policies));
        if (o.json === true) c.out(`${JSON.stringify({ kind: 'hashiship.secrets.check', environment: o.env, ...report }, null, 2)}\n`);
        else c.out(`secrets: ${report.checked} references of ${policies.length} services present and readable (${Math.round(report.ms)} ms)\n`);
      }),
    );
}

interface KvFlags {
  readonly fromFile?: string;
  readonly cas?: string;
  readonly field?: string;
  readonly json?: boolean;
  readonly mount?: string;
}

/** `--mount path:version` (`secret:2`, `kv:1`), skipping detection. */
function mountFlag(v: string | undefined): { path: string; version: 1 | 2 } | undefined {
  if (v === undefined) return undefined;
  const m = /^([A-Za-z0-9_./-]+):([12])$/.exec(v);
  // `../sys:2` would address another mount.
  if (m === null || m[1]!.split('/').some((p) => p === '.' || p === '..'))
    throw new InputError([{ subject: `--mount=${JSON.stringify(v)}`, message: 'expected <mount path>:<1|2>, e.g. secret:2' }]);
  return { path: m[1]!, version: Number(m[2]) as 1 | 2 };
}

/**
 * A logical path given on the command line, checked before the first request:
 * `secret/../sys/x` would reach another path, a control character a broken request.
 * @throws {InputError} naming it.
 */
function logicalPath(path: string): string {
  const parts = path.replace(/^\/+|\/+$/g, '').split('/');
  // eslint-disable-next-line no-control-regex -- control characters are exactly what it refuses
  const bad = /[\s\u0000-\u001f\u007f-\u009f]/.test(path)
    ? 'it holds a space or a control character'
    : parts.some((p) => p === '' || p === '.' || p === '..')
      ? 'an empty, `.` or `..` part'
      : undefined;
  if (bad !== undefined) throw new InputError([{ subject: JSON.stringify(path), message: `not a secret path (${bad}); write e.g. secret/billing/stripe` }]);
  return path;
}

/** Register `secrets put` and `secrets get` (KV, for bootstrap runbooks). */
export function registerSecretsKv(secrets: Command): void {
  serverFlags(
    secrets
      .command('put')
      .description('write a KV secret (v1 or v2, detected) from a JSON file of keys; prints key names only (runbooks)')
      .argument('<path>', 'logical path, e.g. secret/billing/stripe')
      .requiredOption('--from-file <file>', 'JSON object of keys and values ("-" for stdin)')
      .option('--cas <version>', 'KV v2 check-and-set: the current version (0: only if absent); a mismatch is exit 6')
      .option('--mount <path:version>', 'skip mount detection, e.g. secret:2')
      .option('--json', 'print one JSON document'),
    ['vault'],
  ).action(
    run(async (c: RunContext<KvFlags>, path: string) => {
      const o = c.opts;
      logicalPath(path);
      const [{ readInputFile, readInputStream }, { withVault }] = await Promise.all([import('../config/input-file.js'), import('../vault/auth.js')]);
      const file = o.fromFile as string;
      const from = { subject: `--from-file=${JSON.stringify(file)}`, maxBytes: SecretsFileBytes, what: 'a JSON object of keys and values' };
      const text = file === '-' ? await readInputStream(process.stdin, from) : readInputFile(file, from);
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch {
        // The parser's message may quote the file's text: never show it.
        throw new InputError([{ subject: from.subject, message: 'not JSON' }]);
      }
      if (typeof data !== 'object' || data === null || Array.isArray(data)) {
        throw new InputError([{ subject: `--from-file=${JSON.stringify(file)}`, message: 'expected a JSON object of keys and values' }]);
      }
      let cas: number | undefined;
      if (o.cas !== undefined) {
        cas = Number(o.cas);
        // Digits only: `1e3`, `0x10` and 99999999999999999999999 (1e23 as a number) are not versions.
        if (!/^[0-9]{1,15}$/.test(o.cas))
          throw new InputError([{ subject: `--cas=${JSON.stringify(o.cas)}`, message: 'expected a version number (0 or more)' }]);
      }
      const mount = mountFlag(o.mount);
      const values = data as Record<string, unknown>;
      const r = await withVault((await c.clients()).vault, (session) =>
        session.client.kv.write(path, values, { ...(cas === undefined ? {} : { cas }), ...(mount === undefined ? {} : { mount }) }),
      );
      const keys = Object.keys(values).sort();
      if (o.json === true) {
        c.out(
          `${JSON.stringify({ kind: 'hashiship.secrets.put', path: r.location.dataPath, kvVersion: r.location.version, ...(r.version === undefined ? {} : { version: r.version }), keys }, null, 2)}\n`,
        );
      } else {
        c.out(`wrote ${r.location.dataPath} (kv v${r.location.version}${r.version === undefined ? '' : `, version ${r.version}`}): keys ${keys.join(', ')}\n`);
      }
    }),
  );

  serverFlags(
    secrets
      .command('get')
      .description('read a KV secret: its key names (and version); --field prints one value, raw, for scripts')
      .argument('<path>', 'logical path, e.g. secret/billing/stripe')
      .option('--field <key>', "print only this key's value")
      .option('--mount <path:version>', 'skip mount detection, e.g. secret:2')
      .option('--json', 'print one JSON document (key names only)'),
    ['vault'],
  ).action(
    run(async (c: RunContext<KvFlags>, path: string) => {
      const o = c.opts;
      logicalPath(path);
      const [{ withVault }, { GateError }] = await Promise.all([import('../vault/auth.js'), import('../errors.js')]);
      const mount = mountFlag(o.mount);
      const secret = await withVault((await c.clients()).vault, (session) => session.client.kv.read(path, mount === undefined ? {} : { mount }));
      if (secret === undefined) throw new GateError(`vault: no secret at ${path}`, { context: [['Path', path]] });
      const keys = Object.keys(secret.data).sort();
      if (o.field !== undefined) {
        if (!keys.includes(o.field)) throw new GateError(`vault: ${secret.location.dataPath} has no key ${o.field}`, { context: [['Keys', keys.join(', ')]] });
        const v = secret.data[o.field];
        c.raw(typeof v === 'string' ? v : JSON.stringify(v));
        return;
      }
      if (o.json === true) {
        c.out(
          `${JSON.stringify({ kind: 'hashiship.secrets.get', path: secret.location.dataPath, kvVersion: secret.location.version, ...(secret.version === undefined ? {} : { version: secret.version }), keys }, null, 2)}\n`,
        );
      } else {
        c.out(
          `${secret.location.dataPath} (kv v${secret.location.version}${secret.version === undefined ? '' : `, version ${secret.version}`}): keys ${keys.join(', ')}\n`,
        );
      }
    }),
  );
}
