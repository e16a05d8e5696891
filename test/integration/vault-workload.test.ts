/**
 * The applied role and policy through Nomad's real workload identity: a batch job
 * whose `vault { role = … }` is the service's role reads its own secret, and the
 * same job is refused another service's secret. Job IDs, secrets, policies and
 * roles are unique to the run and removed afterwards.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { ServiceSpec } from '../../src/service-spec/types.js';
import { servicePolicy, type ServicePolicy } from '../../src/vault/policy.js';
import { applyPolicies } from '../../src/vault/preflight.js';
import { useStack, type TestStack } from '../helpers/stack.js';

const run = randomBytes(3).toString('hex');
const base = `hs-wi-${run}`;

async function eventually<T>(what: string, ms: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function spec(name: string, path: string): ServiceSpec {
  return { name, groups: [{ name: 'g', tasks: [{ name: 't', secrets: [{ file: 'secrets/v', path, key: 'v' }] }] }] };
}

/** A batch job that prints the secret at `path` through a template, using `role`. */
function jobHcl(id: string, role: string, path: string): string {
  return `
job "${id}" {
  datacenters = ["*"]
  type        = "batch"

  group "g" {
    restart {
      attempts = 0
      mode     = "fail"
    }

    task "t" {
      driver = "raw_exec"

      vault {
        role = "${role}"
      }

      template {
        data        = "{{ with secret \\"${path}\\" }}{{ .Data.data.v }}{{ end }}"
        destination = "secrets/v"
        change_mode = "noop"
      }

      config {
        command = "/bin/cat"
        args    = ["secrets/v"]
      }

      resources {
        cpu    = 20
        memory = 32
      }
    }
  }
}
`;
}

interface Alloc {
  ID: string;
  ClientStatus: string;
  TaskStates?: Record<string, { Events: { Type: string; DisplayMessage: string }[] }>;
}

describe('vault: the applied role through Nomad workload identity (real Nomad and Vault)', function () {
  this.timeout(180_000);
  let stack: TestStack;
  const policies: ServicePolicy[] = [];
  const jobs: string[] = [];

  const nomad = async (method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(`${stack.config.nomad.address}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const vault = async (method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(`${stack.config.vault.address}/v1/${path}`, {
      method,
      headers: { 'X-Vault-Token': stack.env['VAULT_TOKEN'] ?? '' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  async function runJob(id: string, role: string, path: string): Promise<void> {
    const parsed = await nomad('POST', '/v1/jobs/parse', { JobHCL: jobHcl(id, role, path), Canonicalize: true });
    expect(parsed.status).to.equal(200);
    jobs.push(id);
    const reg = await nomad('POST', '/v1/jobs', { Job: await parsed.json() });
    expect(reg.status, await reg.clone().text()).to.equal(200);
  }

  const allocs = async (id: string): Promise<Alloc[]> => (await (await nomad('GET', `/v1/job/${id}/allocations`)).json()) as Alloc[];

  before(async () => {
    stack = await useStack();
  });

  after(async () => {
    if (stack === undefined) return;
    for (const j of jobs) await nomad('DELETE', `/v1/job/${j}?purge=true`);
    for (const p of policies) {
      await vault('DELETE', `sys/policies/acl/${p.name}`);
      await vault('DELETE', `auth/jwt-nomad/role/${p.role}`);
    }
    for (const s of ['a', 'b']) await vault('DELETE', `secret/metadata/${base}/${s}`);
  });

  it('the job reads its own secret with its role, and is refused the other service secret', async () => {
    const a = spec(`${base}-a`, `secret/data/${base}/a`);
    const b = spec(`${base}-b`, `secret/data/${base}/b`);
    const value = `v-${run}`;
    expect((await vault('POST', `secret/data/${base}/a`, { data: { v: value } })).status).to.equal(200);
    expect((await vault('POST', `secret/data/${base}/b`, { data: { v: 'other' } })).status).to.equal(200);
    const pa = servicePolicy({ spec: a, environment: { name: 'wi' } });
    const pb = servicePolicy({ spec: b, environment: { name: 'wi' } });
    policies.push(pa, pb);
    await applyPolicies(stack.clients.vault, [pa, pb]);

    await runJob(a.name, pa.role, `secret/data/${base}/a`);
    const done = await eventually('the job to complete', 90_000, async () => {
      const list = await allocs(a.name);
      const failed = list.find((x) => x.ClientStatus === 'failed');
      if (failed !== undefined) throw new Error(`allocation failed: ${JSON.stringify(failed.TaskStates)}`);
      return list.find((x) => x.ClientStatus === 'complete');
    });
    const logs = await nomad('GET', `/v1/client/fs/logs/${done.ID}?task=t&type=stdout&plain=true&origin=start`);
    expect((await logs.text()).trim()).to.equal(value);

    // Job a again (its own role, its own identity), now templating b's secret: Vault says no.
    const other = `${base}-a`;
    await nomad('DELETE', `/v1/job/${other}?purge=true`);
    await runJob(other, pa.role, `secret/data/${base}/b`);
    let seen = '';
    const refused = await eventually('the template to be refused', 90_000, async () => {
      const list = await allocs(other);
      seen = JSON.stringify(list.map((x) => [x.ClientStatus, x.TaskStates?.['t']?.Events.map((ev) => `${ev.Type}: ${ev.DisplayMessage}`)]));
      for (const x of list) {
        const events = x.TaskStates?.['t']?.Events ?? [];
        // consul-template reports a read its token may not make as missing; the secret exists.
        const e = events.find((ev) => ev.DisplayMessage.includes(`vault.read(secret/data/${base}/b)`) || /permission denied/.test(ev.DisplayMessage));
        if (e !== undefined) return e.DisplayMessage;
        if (x.ClientStatus === 'complete') throw new Error('the job read a secret its policy does not cover');
      }
      return undefined;
    }).catch((err: Error) => {
      throw new Error(`${err.message}; allocations: ${seen}`);
    });
    expect(refused).to.contain(`secret/data/${base}/b`);
    expect((await allocs(other)).every((x) => x.ClientStatus !== 'complete')).to.equal(true);
  });
});
