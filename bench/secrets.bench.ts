/**
 * The secrets pre-flight over 200 references (4 services × 40 Vault secrets + 10
 * Consul keys) on the real stack's Vault and Consul, with the policies applied:
 * the default concurrency beside the same checks one request at a time, five
 * alternating rounds, medians.
 * Every secret, key and policy is unique to the run and removed afterwards.
 */
import { randomBytes } from 'node:crypto';
import type { HashishipConfig } from '../src/config/index.js';
import type { ServiceSpec } from '../src/service-spec/types.js';
import { servicePolicy, type ServicePolicy } from '../src/vault/policy.js';
import { applyPolicies, requireSecrets } from '../src/vault/preflight.js';
import { benchStack, size, type Benchmark, type Figure } from './harness.js';
import { createClients } from '../src/clients.js';

const SECRETS = size(40, 5);
const KEYS = size(10, 2);
const ROUNDS = size(5, 1);

async function vaultHttp(config: HashishipConfig, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${config.vault.address}/v1/${path}`, {
    method,
    headers: { 'X-Vault-Token': config.vault.token ?? '' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

const bench: Benchmark = {
  name: 'secrets',
  async run(): Promise<Figure[]> {
    const stack = await benchStack();
    const { config } = stack;
    const base = `hs-bench-${randomBytes(3).toString('hex')}`;
    const specs: ServiceSpec[] = [];
    const writes: Promise<unknown>[] = [];
    const paths: string[] = [];
    for (let s = 0; s < 4; s++) {
      const secrets = Array.from({ length: SECRETS }, (_, i) => ({ env: `S${i}`, path: `secret/data/${base}/svc${s}/s${i}`, key: 'k' }));
      const kv = Array.from({ length: KEYS }, (_, i) => ({ env: `K${i}`, key: `${base}/svc${s}/k${i}` }));
      for (const x of secrets) {
        paths.push(x.path.replace('/data/', '/metadata/'));
        writes.push(vaultHttp(config, 'POST', x.path, { data: { k: 'v' } }));
      }
      for (const x of kv) writes.push(fetch(`${config.consul.address}/v1/kv/${x.key}`, { method: 'PUT', body: 'v' }));
      specs.push({ name: `${base}-svc${s}`, groups: [{ name: 'g', tasks: [{ name: 't', secrets, kv }] }] });
    }
    await Promise.all(writes);
    const policies: ServicePolicy[] = specs.map((spec) => servicePolicy({ spec, environment: { name: 'bench' } }));
    try {
      const clients = createClients(config);
      await applyPolicies(clients.vault, policies);
      await requireSecrets(clients, policies); // warm-up
      // Alternating rounds, median of each: the shared 2-core machine makes single samples noisy.
      const fast: number[] = [];
      const slow: number[] = [];
      let checked = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const f = await requireSecrets(clients, policies);
        checked = f.checked;
        fast.push(f.ms);
        slow.push((await requireSecrets(clients, policies, { concurrency: 1 })).ms);
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      return [
        {
          label: `pre-flight of ${checked} references (concurrency 32, median of ${ROUNDS})`,
          value: median(fast),
          unit: 'ms',
          peer: { name: 'one at a time', value: median(slow) },
          target: '< 2000 ms',
        },
      ];
    } finally {
      await Promise.all(paths.map((p) => vaultHttp(config, 'DELETE', p)));
      await fetch(`${config.consul.address}/v1/kv/${base}?recurse=true`, { method: 'DELETE' });
      for (const p of policies) {
        await vaultHttp(config, 'DELETE', `sys/policies/acl/${p.name}`);
        await vaultHttp(config, 'DELETE', `auth/jwt-nomad/role/${p.role}`);
      }
    }
  },
};

export default bench;
