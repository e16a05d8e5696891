/**
 * `hashiship secrets policy --env <env> [--apply] [services…]`: each service's
 * read-only Vault policy (and, with `--apply`, the policy and its JWT role written
 * to Vault). `hashiship secrets check --env <env> [services…]`: the pre-flight —
 * exit 6 listing every missing or denied path, never a value or a token.
 */
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import type { ResolvedService } from '../spec/overlay.js';

interface SecretsFlags {
  readonly env: string;
  readonly services: string;
  readonly environments: string;
  readonly json?: boolean;
  readonly apply?: boolean;
}

async function resolve(o: SecretsFlags, names: readonly string[]): Promise<ResolvedService[]> {
  const [{ readSpecFiles }, { loadSet, resolveEnvironment }, { suggest }] = await Promise.all([
    import('../spec/files.js'),
    import('../spec/load.js'),
    import('../spec/suggest.js'),
  ]);
  const resolved = resolveEnvironment(loadSet(await readSpecFiles([o.services, o.environments])), o.env);
  const known = resolved.map((r) => r.spec.name);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0) {
    throw new InputError(
      unknown.map((n) => {
        const hint = suggest(n, known);
        return { subject: n, message: `no service named \`${n}\` in ${o.env}${hint === undefined ? '' : `; did you mean \`${hint}\`?`}` };
      }),
    );
  }
  return names.length === 0 ? resolved : resolved.filter((r) => names.includes(r.spec.name));
}

function common(cmd: Command): Command {
  return cmd
    .requiredOption('--env <name>', 'environment')
    .option('--services <dir>', 'service specs', 'jobs/services')
    .option('--environments <dir>', 'environment files', 'jobs/environments')
    .option('--json', 'print one JSON document')
    .argument('[names...]', 'only these services (default: every service of the environment)');
}

export function registerSecrets(program: Command): void {
  const secrets = program.command('secrets').description("services' Vault policies and the secrets pre-flight");

  common(secrets.command('policy'))
    .description("print each service's read-only Vault policy; --apply writes it with its workload-identity role")
    .option('--apply', 'write the policies and JWT roles to Vault')
    .action(async (names: string[], o: SecretsFlags) => {
      const [{ resolveConfig }, { servicePolicies, jwtRole, sharedRoles }, { applyPolicies }] = await Promise.all([
        import('../config/index.js'),
        import('../vault/policy.js'),
        import('../vault/preflight.js'),
      ]);
      const policies = servicePolicies(await resolve(o, names));
      if (o.apply === true) await applyPolicies(resolveConfig({ env: process.env }).vault, policies);
      if (o.json === true) {
        const doc = policies.map((p) => ({ service: p.service, policy: p.name, role: p.role, paths: p.paths, hcl: p.hcl, jwtRole: jwtRole(p) }));
        process.stdout.write(`${JSON.stringify({ kind: 'hashiship.secrets.policy', environment: o.env, applied: o.apply === true, policies: doc }, null, 2)}\n`);
        return;
      }
      if (policies.length === 0) process.stdout.write(`no service of ${o.env} references Vault secrets\n`);
      for (const p of policies) {
        process.stdout.write(`# policy ${p.name} (role ${p.role}, job ${p.jobId})\n${p.hcl}\n`);
        if (o.apply === true) process.stdout.write(`wrote sys/policies/acl/${p.name} and auth/jwt-nomad/role/${p.role}\n\n`);
      }
      for (const [role, services] of sharedRoles(policies)) {
        process.stdout.write(`note: role ${role} is shared by ${services.join(', ')}; --apply needs one role per service (vault_role under services.<name>)\n`);
      }
    });

  common(secrets.command('check'))
    .description('pre-flight: every referenced secret and Consul key exists and the service policy can read it (exit 6 otherwise)')
    .action(async (names: string[], o: SecretsFlags) => {
      const [{ resolveConfig }, { servicePolicy }, { requireSecrets }] = await Promise.all([
        import('../config/index.js'),
        import('../vault/policy.js'),
        import('../vault/preflight.js'),
      ]);
      const policies = (await resolve(o, names)).map(servicePolicy).filter((p) => p.secrets.length + p.kv.length > 0);
      const report = await requireSecrets(resolveConfig({ env: process.env }), policies);
      if (o.json === true) {
        process.stdout.write(`${JSON.stringify({ kind: 'hashiship.secrets.check', environment: o.env, ...report }, null, 2)}\n`);
      } else {
        process.stdout.write(`secrets: ${report.checked} references of ${policies.length} services present and readable (${Math.round(report.ms)} ms)\n`);
      }
    });
}
