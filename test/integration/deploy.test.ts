/**
 * plan and deploy against the real Nomad and Consul of the stack, with
 * raw_exec services (python's http.server with a Consul HTTP check) written
 * as API JSON. Every case is a step flow (test/helpers/steps.ts) with its own
 * job IDs, purged in cleanup.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli.js';
import { createClients } from '../../src/clients.js';
import { deployEnvironment, deployJob, planEnvironment, promoteCanaries, type ServiceResult } from '../../src/deploy/deploy.js';
import { inputsFromSpecs } from '../../src/deploy/inputs.js';
import { createDeployContext, type DeployContext } from '../../src/deploy/runtime.js';
import { environmentStatus } from '../../src/deploy/status.js';
import { ExitCode, HashishipError } from '../../src/errors.js';
import { collecting, type Event } from '../../src/log.js';
import type { JobSpecLike } from '../../src/nomad/jobs.js';
import { useStack, type TestStack } from '../helpers/stack.js';
import { deploymentStatus, exitCode, jobVersion, purge, runCase, runningAllocs } from '../helpers/steps.js';

const run = randomBytes(3).toString('hex');
const jid = (name: string) => `deploy-test-${run}-${name}`;
// One environment per run: jobs an earlier, interrupted run left behind are not "owned here".
const ENV = `itest-${run}`;

interface WebOptions {
  readonly version: string;
  readonly checkPath?: string;
  readonly canary?: number;
  readonly memoryMB?: number;
  readonly count?: number;
  /** How Nomad judges allocation health. @default "checks" */
  readonly healthCheck?: 'checks' | 'task_states';
}

/** A raw_exec web service: python's http.server on a dynamic port, with a Consul HTTP check. */
function webJob(id: string, o: WebOptions): JobSpecLike {
  return {
    ID: id,
    Name: id,
    Type: 'service',
    Datacenters: ['*'],
    Meta: { purpose: 'hashiship deploy test' },
    TaskGroups: [
      {
        Name: 'web',
        Count: o.count ?? 1,
        Networks: [{ DynamicPorts: [{ Label: 'http' }] }],
        Update: {
          MaxParallel: 1,
          HealthCheck: o.healthCheck ?? 'checks',
          MinHealthyTime: 1e9,
          HealthyDeadline: 15e9,
          ProgressDeadline: 30e9,
          AutoRevert: true,
          AutoPromote: false,
          Canary: o.canary ?? 0,
        },
        RestartPolicy: { Attempts: 0, Interval: 60e9, Delay: 1e9, Mode: 'fail' },
        ReschedulePolicy: { Attempts: 0, Unlimited: false },
        Services: [
          {
            Name: id,
            PortLabel: 'http',
            Provider: 'consul',
            Checks: [{ Name: `${id}-alive`, Type: 'http', Path: o.checkPath ?? '/', Interval: 1e9, Timeout: 1e9 }],
          },
        ],
        Tasks: [
          {
            Name: 'web',
            Driver: 'raw_exec',
            Config: { command: '/usr/bin/python3', args: ['-m', 'http.server', '${NOMAD_PORT_http}', '--bind', '127.0.0.1'] },
            Env: { APP_VERSION: o.version },
            KillTimeout: 1e9,
            Resources: { CPU: 50, MemoryMB: o.memoryMB ?? 64 },
          },
        ],
      },
    ],
  } as unknown as JobSpecLike;
}

/** A task that writes to stderr and exits 3 at once; health from task states. */
function crashJob(id: string): JobSpecLike {
  return {
    ID: id,
    Name: id,
    Type: 'service',
    Datacenters: ['*'],
    TaskGroups: [
      {
        Name: 'crash',
        Count: 1,
        Update: { MaxParallel: 1, HealthCheck: 'task_states', MinHealthyTime: 1e9, HealthyDeadline: 15e9, ProgressDeadline: 30e9, AutoRevert: true },
        RestartPolicy: { Attempts: 0, Interval: 60e9, Delay: 1e9, Mode: 'fail' },
        ReschedulePolicy: { Attempts: 0, Unlimited: false },
        Tasks: [
          {
            Name: 'crash',
            Driver: 'raw_exec',
            Config: { command: '/bin/sh', args: ['-c', 'echo starting; echo boom: cannot open /etc/app.conf >&2; exit 3'] },
            Resources: { CPU: 50, MemoryMB: 32 },
          },
        ],
      },
    ],
  } as unknown as JobSpecLike;
}

function batchJob(id: string): JobSpecLike {
  return {
    ID: id,
    Name: id,
    Type: 'batch',
    Datacenters: ['*'],
    TaskGroups: [
      {
        Name: 'once',
        Count: 2,
        RestartPolicy: { Attempts: 0, Interval: 60e9, Delay: 1e9, Mode: 'fail' },
        Tasks: [{ Name: 'once', Driver: 'raw_exec', Config: { command: '/bin/sh', args: ['-c', 'echo done'] }, Resources: { CPU: 50, MemoryMB: 32 } }],
      },
    ],
  } as unknown as JobSpecLike;
}

/** Run the CLI in-process, capturing what it prints. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((c: string | Uint8Array) => ((out += String(c)), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => ((err += String(c)), true)) as typeof process.stderr.write;
  try {
    return { code: await main(args), out, err };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
}

/** Run `fn` with these variables set in process.env, restoring the previous values after. */
async function withEnv<T>(vars: Readonly<Record<string, string>>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

interface State {
  ctx: DeployContext;
  events: Event[];
  result?: ServiceResult;
}

describe('deploy: plan and deploy on the real stack', function () {
  let stack: TestStack;

  before(async function () {
    this.timeout(40 * 60_000);
    stack = await useStack();
  });

  /** A fresh context whose events a test reads. */
  function state(): State {
    const log = collecting();
    return { ctx: createDeployContext(stack.config, log, stack.clients), events: log.events };
  }
  const diagnosis = (s: State) => s.events.flatMap((e) => (e.kind === 'deploy.diagnosis' ? e.lines : [])).join('\n');
  const kinds = (s: State) => s.events.map((e) => e.kind);
  const deploy = (s: State, job: JobSpecLike, opts = {}) => deployJob(s.ctx, ENV, { job, source: 'test' }, opts);

  it('first deploy succeeds; a second deploy with no change exits 0 without a new version', async function () {
    this.timeout(120_000);
    const id = jid('first');
    const s = state();
    await runCase(s, {
      steps: [
        {
          name: 'first deploy',
          run: () => deploy(s, webJob(id, { version: '1' })),
          check: async (_s, r) => {
            expect((r as ServiceResult).outcome).to.equal('successful');
            expect((r as ServiceResult).exitCode).to.equal(0);
            await jobVersion(s.ctx.nomad, id, 0);
            await deploymentStatus(s.ctx.nomad, id, 'successful');
            await runningAllocs(s.ctx.nomad, id, 1);
            const healthy = s.events.filter((e) => e.kind === 'deploy.alloc' && e.health === 'healthy');
            expect(healthy, 'an alloc health event').to.have.length.greaterThan(0);
            // deploy returns once every allocation is healthy (the outcome is decided); Nomad marks it successful right after.
            expect(s.events.some((e) => e.kind === 'deploy.deployment' && e.healthy === 1 && e.desired === 1)).to.equal(true);
            // Then the Consul gate on the deployment's own instance.
            const gate = s.events.filter((e) => e.kind === 'consul.gate');
            expect(gate.at(-1)).to.deep.include({ service: id, passing: 1, total: 1 });
            expect(gate.at(-1)?.kind === 'consul.gate' && gate.at(-1)?.requirement).to.match(/from 1 allocation/);
          },
        },
        {
          name: 'second deploy, same job',
          run: async () => {
            s.events.length = 0;
            return deploy(s, webJob(id, { version: '1' }));
          },
          check: async (_s, r) => {
            expect((r as ServiceResult).outcome).to.equal('unchanged');
            expect((r as ServiceResult).exitCode).to.equal(0);
            expect(kinds(s)).not.to.include('deploy.register');
            await jobVersion(s.ctx.nomad, id, 0);
          },
        },
        {
          name: 'a change with --until successful returns only after Nomad marked the deployment successful',
          run: () => deploy(s, webJob(id, { version: '2' }), { until: 'successful' }),
          check: async (_s, r) => {
            expect((r as ServiceResult).outcome).to.equal('successful');
            await deploymentStatus(s.ctx.nomad, id, 'successful', 0);
            await jobVersion(s.ctx.nomad, id, 1);
          },
        },
        {
          name: 'status shows version, deployment, healthy/desired and Consul health',
          run: () => environmentStatus(s.ctx, ENV, [id]),
          check: (_s, rows) => {
            const [row] = rows as Awaited<ReturnType<typeof environmentStatus>>;
            expect(row).to.include({ job: id, version: 1, healthy: 1, desired: 1 });
            expect(row?.deployment?.status).to.equal('successful');
            expect(row?.consul).to.deep.equal({ passing: 1, warning: 0, critical: 0 });
          },
        },
      ],
      cleanup: () => purge(s.ctx.nomad, id),
    });
  });

  it('a change with a failing health check auto-reverts and exits 3 with a diagnosis naming the check', async function () {
    this.timeout(180_000);
    const id = jid('revert');
    const s = state();
    await runCase(s, {
      setup: async () => {
        await deploy(s, webJob(id, { version: '1' }));
      },
      steps: [
        {
          name: 'deploy a version whose check path 404s',
          run: async () => {
            s.events.length = 0;
            return deploy(s, webJob(id, { version: '2', checkPath: '/missing' }));
          },
          expectError: exitCode(ExitCode.reverted),
          check: async () => {
            const text = diagnosis(s);
            expect(text).to.include(`health check "${id}-alive"`);
            expect(text).to.include('404');
            expect(text).to.match(/Reverted: version 2 .* is running/);
            expect(text.split('\n').length).to.be.at.most(45);
            expect(kinds(s)).to.include('deploy.revert');
            await jobVersion(s.ctx.nomad, id, 2);
            await deploymentStatus(s.ctx.nomad, id, 'successful');
          },
        },
      ],
      cleanup: () => purge(s.ctx.nomad, id),
    });
  });

  it("health from task states: Nomad's deployment succeeds, but the Consul gate sees the failing check and exits 6", async function () {
    this.timeout(120_000);
    const id = jid('gate');
    const s = state();
    await runCase(s, {
      steps: [
        {
          name: 'deploy a version whose check 404s while Nomad judges health by task states',
          run: () => deploy(s, webJob(id, { version: '1', checkPath: '/missing', healthCheck: 'task_states' }), { healthDeadlineMs: 4_000 }),
          expectError: exitCode(ExitCode.gate),
          check: async () => {
            await deploymentStatus(s.ctx.nomad, id, 'successful');
            const text = diagnosis(s);
            expect(text).to.include("succeeded in Nomad, but Consul's health gate did not open");
            expect(text).to.match(new RegExp(`Instance _nomad-task-[0-9a-f-]{36}-group-web-${id}-http: node \\S+, check "${id}-alive"`));
            expect(text).to.include(`${id}-alive`);
            expect(text).to.include('404');
          },
        },
        {
          name: 'the same with the gate off: Nomad alone decides',
          run: () => deploy(s, webJob(id, { version: '2', checkPath: '/missing', healthCheck: 'task_states' }), { healthGate: false }),
          check: (_s, r) => {
            expect((r as ServiceResult).outcome).to.equal('successful');
            expect((r as ServiceResult).exitCode).to.equal(0);
          },
        },
      ],
      cleanup: () => purge(s.ctx.nomad, id),
    });
  });

  it('a task that exits immediately exits 4 with its stderr in the diagnosis', async function () {
    this.timeout(120_000);
    const id = jid('crash');
    const s = state();
    await runCase(s, {
      steps: [
        {
          name: 'first deploy of a crashing task (nothing to revert to)',
          run: () => deploy(s, crashJob(id)),
          expectError: exitCode(ExitCode.failed),
          check: () => {
            const text = diagnosis(s);
            expect(text).to.include('exited with code 3');
            expect(text).to.include('| boom: cannot open /etc/app.conf');
            expect(text).not.to.include('| starting'); // stdout is not stderr
          },
        },
      ],
      cleanup: () => purge(s.ctx.nomad, id),
    });
  });

  it('no outcome by --timeout: exit 4, saying how long it waited and which flag sets it', async function () {
    // Regression: the message said "no outcome by the deadline" without the wait or the flag.
    this.timeout(120_000);
    const id = jid('slow');
    const s = state();
    await runCase(s, {
      steps: [
        {
          name: 'deploy a version whose check never passes, waiting 4 s',
          run: () => deploy(s, webJob(id, { version: '1', checkPath: '/missing' }), { timeoutMs: 4_000, healthGate: false }),
          expectError: (err) => {
            exitCode(ExitCode.failed)(err);
            expect((err as HashishipError).describe()).to.include(`${id}: no outcome after waiting 4s (--timeout)`);
          },
        },
      ],
      cleanup: () => purge(s.ctx.nomad, id),
    });
  });

  it('impossible resources: the plan predicts the placement failure and deploy exits 5', async function () {
    this.timeout(120_000);
    const id = jid('huge');
    const s = state();
    const job = webJob(id, { version: '1', memoryMB: 50_000_000 });
    await runCase(s, {
      steps: [
        {
          name: 'plan',
          run: () => planEnvironment(s.ctx, { environment: ENV, inputs: [{ job, source: 'test' }], complete: false }),
          check: (_s, r) => {
            const plan = (r as Awaited<ReturnType<typeof planEnvironment>>).document.jobs[0];
            expect(plan?.placementFailures[0]?.group).to.equal('web');
            expect(plan?.placementFailures[0]?.reasons.join('\n')).to.include('Dimension "memory" exhausted');
          },
        },
        {
          name: 'deploy',
          run: () => deploy(s, job),
          expectError: exitCode(ExitCode.placement),
          check: () => expect(diagnosis(s)).to.include('Dimension "memory" exhausted on 1 nodes'),
        },
      ],
      cleanup: () => purge(s.ctx.nomad, id),
    });
  });

  it('canaries: --until promotion-ready exits 10, then promote-canaries completes the deployment', async function () {
    this.timeout(180_000);
    const id = jid('canary');
    const s = state();
    await runCase(s, {
      setup: async () => {
        await deploy(s, webJob(id, { version: '1', canary: 1 }));
      },
      steps: [
        {
          name: 'deploy v2 until promotion-ready',
          run: () => deploy(s, webJob(id, { version: '2', canary: 1 }), { until: 'promotion-ready' }),
          check: async (_s, r) => {
            expect((r as ServiceResult).outcome).to.equal('promotion-ready');
            expect((r as ServiceResult).exitCode).to.equal(10);
            const d = await s.ctx.nomad.jobs.latestDeployment(id);
            expect(d?.Status).to.equal('running');
            expect(d?.TaskGroups?.['web']?.HealthyAllocs).to.equal(1);
            expect(d?.TaskGroups?.['web']?.Promoted).to.equal(false);
          },
        },
        {
          name: 'promote-canaries',
          run: () => promoteCanaries(s.ctx, [id], { environment: ENV }),
          check: async (_s, r) => {
            const res = r as Awaited<ReturnType<typeof promoteCanaries>>;
            expect(res.exitCode).to.equal(0);
            expect(res.results[0]?.outcome).to.equal('successful');
            expect(kinds(s)).to.include('deploy.promote');
            await deploymentStatus(s.ctx.nomad, id, 'successful');
            await jobVersion(s.ctx.nomad, id, 1);
            await runningAllocs(s.ctx.nomad, id, 1);
          },
        },
      ],
      cleanup: () => purge(s.ctx.nomad, id),
    });
  });

  it('a job modified between plan and deploy --plan exits 6 and registers nothing', async function () {
    this.timeout(120_000);
    const id = jid('stale');
    const s = state();
    const set = { environment: ENV, inputs: [{ job: webJob(id, { version: '2' }), source: 'test' }], complete: false };
    let saved: Awaited<ReturnType<typeof planEnvironment>>['document'] | undefined;
    await runCase(s, {
      setup: async () => {
        await deploy(s, webJob(id, { version: '1' }));
      },
      steps: [
        {
          name: 'plan v2',
          run: async () => {
            saved = (await planEnvironment(s.ctx, set)).document;
            return saved;
          },
          check: () => expect(saved?.jobs[0]?.action).to.equal('update'),
        },
        {
          name: 'someone registers another version meanwhile',
          run: async () => {
            const live = await s.ctx.nomad.jobs.get(id);
            await s.ctx.nomad.jobs.register({ ...live!, Meta: { ...live!.Meta, touched: 'yes' } });
          },
        },
        {
          name: 'deploy --plan',
          run: async () => {
            const r = await deployEnvironment(s.ctx, set, { plan: saved! });
            if (r.results[0]?.error !== undefined) throw r.results[0].error;
            return r;
          },
          expectError: (err) => {
            exitCode(ExitCode.gate)(err);
            expect(String((err as Error).message)).to.include('changed since it was planned');
          },
          check: () => jobVersion(s.ctx.nomad, id, 1),
        },
      ],
      cleanup: () => purge(s.ctx.nomad, id),
    });
  });

  it('a foreign job with the same name exits 6 unless --force-owner', async function () {
    this.timeout(120_000);
    const id = jid('foreign');
    const s = state();
    await runCase(s, {
      setup: async () => {
        await s.ctx.nomad.jobs.register(webJob(id, { version: 'theirs' })); // like `nomad job run`: no hashiship meta
      },
      steps: [
        {
          name: 'deploy over it',
          run: () => deploy(s, webJob(id, { version: 'ours' })),
          expectError: exitCode(ExitCode.gate),
          check: () => jobVersion(s.ctx.nomad, id, 0),
        },
        {
          name: 'deploy over it with --force-owner',
          run: () => deploy(s, webJob(id, { version: 'ours' }), { forceOwner: true }),
          check: async (_s, r) => {
            expect((r as ServiceResult).outcome).to.equal('successful');
            const live = await s.ctx.nomad.jobs.get(id);
            expect(live?.Meta?.['hashiship_environment']).to.equal(ENV);
          },
        },
      ],
      cleanup: () => purge(s.ctx.nomad, id),
    });
  });

  it('keeps a count the autoscaler set unless --reset-counts', async function () {
    this.timeout(180_000);
    const id = jid('scaled');
    const s = state();
    const groupCount = async () => (await s.ctx.nomad.jobs.get(id))?.TaskGroups?.[0]?.Count;
    await runCase(s, {
      setup: async () => {
        await deploy(s, webJob(id, { version: '1' }));
        await deploymentStatus(s.ctx.nomad, id, 'successful'); // Nomad refuses scaling during a deployment
        await s.ctx.nomad.jobs.scale(id, 'web', 2, 'scaled by the autoscaler (test)');
        await deploymentStatus(s.ctx.nomad, id, 'successful', 60_000);
      },
      steps: [
        {
          name: 'plan a change: the scaled count is kept and said so',
          run: () => planEnvironment(s.ctx, { environment: ENV, inputs: [{ job: webJob(id, { version: '2' }), source: 'test' }], complete: false }),
          check: (_s, r) => {
            const p = (r as Awaited<ReturnType<typeof planEnvironment>>).document.jobs[0];
            expect(p?.preservedCounts).to.have.length(1);
            expect(p?.preservedCounts[0]).to.include({ group: 'web', count: 2, spec: 1 });
            expect(p?.diffText.join('\n')).not.to.include('Count');
          },
        },
        {
          name: 'deploy the change',
          run: () => deploy(s, webJob(id, { version: '2' })),
          check: async () => {
            expect(await groupCount()).to.equal(2);
            expect(s.events.some((e) => e.kind === 'deploy.counts' && e.count === 2 && e.spec === 1)).to.equal(true);
            await runningAllocs(s.ctx.nomad, id, 2);
          },
        },
        {
          name: 'deploy with --reset-counts',
          run: () => deploy(s, webJob(id, { version: '3' }), { resetCounts: true }),
          check: async () => expect(await groupCount()).to.equal(1),
        },
      ],
      cleanup: () => purge(s.ctx.nomad, id),
    });
  });

  it('a batch job (no deployment) is followed through its allocations to completion', async function () {
    this.timeout(120_000);
    const id = jid('batch');
    const s = state();
    await runCase(s, {
      steps: [
        {
          name: 'deploy',
          run: () => deploy(s, batchJob(id)),
          check: async (_s, r) => {
            expect((r as ServiceResult).outcome).to.equal('successful');
            const done = (await s.ctx.nomad.allocations.ofJob(id)).data.filter((a) => a.ClientStatus === 'complete');
            expect(done).to.have.length(2);
            expect(s.events.filter((e) => e.kind === 'deploy.alloc' && e.health === 'complete')).to.have.length(2);
          },
        },
      ],
      cleanup: () => purge(s.ctx.nomad, id),
    });
  });

  it('emits a heartbeat whenever nothing else was said for the interval', async function () {
    this.timeout(120_000);
    const id = jid('beat');
    const s = state();
    const job = webJob(id, { version: '1' });
    const slow = { ...job, TaskGroups: job.TaskGroups!.map((g) => ({ ...g, Update: { ...g.Update, MinHealthyTime: 4e9 } })) } as JobSpecLike;
    const times: number[] = [];
    const ctx: DeployContext = { ...s.ctx, runtime: { ...s.ctx.runtime, log: (e) => (times.push(Date.now()), s.events.push(e)) } };
    await runCase(s, {
      steps: [
        {
          name: 'deploy with a 1 s heartbeat',
          run: () => deployJob(ctx, ENV, { job: slow, source: 'test' }, { heartbeatMs: 1000 }),
          check: () => {
            expect(kinds(s)).to.include('heartbeat');
            const gaps = times.slice(1).map((t, i) => t - times[i]!);
            expect(Math.max(...gaps), 'longest silence (ms)').to.be.below(2500);
          },
        },
      ],
      cleanup: () => purge(s.ctx.nomad, id),
    });
  });

  describe('an environment from specs, in a namespace: jobs whose spec was removed', () => {
    let dir: string;
    const a = jid('env-a');
    const b = jid('env-b');
    const c = jid('env-c');
    const NS = `prune-${run}`;
    let ctx: DeployContext;
    let events: Event[];

    function spec(name: string): string {
      return `name: ${name}
namespace: ${NS}
type: service
groups:
  - name: web
    count: 1
    ports:
      http: {}
    update:
      max_parallel: 1
      min_healthy_time: 1s
      healthy_deadline: 10s
      progress_deadline: 30s
      auto_revert: true
    restart:
      attempts: 0
      mode: fail
    services:
      - name: ${name}
        port: http
        checks:
          - type: http
            path: /
            interval: 1s
            timeout: 1s
    tasks:
      - name: web
        driver: raw_exec
        command: /usr/bin/python3
        args: [-m, http.server, "\${NOMAD_PORT_http}", --bind, 127.0.0.1]
        resources:
          cpu: 50
          memory: 64
`;
    }

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'hashiship-deploy-'));
      mkdirSync(join(dir, 'services'));
      mkdirSync(join(dir, 'environments'));
      writeFileSync(join(dir, 'environments', `${ENV}.yaml`), `name: ${ENV}\ndatacenters: ["*"]\n`);
      writeFileSync(join(dir, 'services', `${a}.yaml`), spec(a));
      writeFileSync(join(dir, 'services', `${b}.yaml`), spec(b));
      const log = collecting();
      // The client talks to the namespace the specs put their jobs in.
      const config = { ...stack.config, nomad: { ...stack.config.nomad, namespace: NS } };
      ctx = createDeployContext(config, log, createClients(config));
      events = log.events;
      await stack.clients.nomad.client.request('namespace.apply', {
        method: 'POST',
        path: `/v1/namespace/${NS}`,
        data: { Name: NS, Description: 'hashiship deploy --prune test' },
      });
    });
    after(async () => {
      rmSync(dir, { recursive: true, force: true });
      await purge(ctx.nomad, a, b, c);
      await stack.clients.nomad.client.request('namespace.delete', { method: 'DELETE', path: `/v1/namespace/${NS}` }).catch(() => undefined);
    });

    const paths = () => ({ services: join(dir, 'services'), environments: join(dir, 'environments') });
    const flags = () => ['--env', ENV, '--services', join(dir, 'services'), '--environments', join(dir, 'environments')];
    /** The CLI with the stack's variables and the namespace as NOMAD_NAMESPACE. */
    const hashiship = (...args: string[]) => withEnv({ ...stack.env, NOMAD_NAMESPACE: NS }, () => cli(...args, ...flags()));
    type R = Awaited<ReturnType<typeof cli>>;
    const stillRuns = async (id: string) => {
      expect((await ctx.nomad.jobs.get(id))?.Stop, `${id} stopped?`).to.equal(false);
      await runningAllocs(ctx.nomad, id, 1);
    };

    it('deploys every service concurrently; a removed spec is kept until deploy --prune, which refuses past its limit without --force', async function () {
      this.timeout(300_000);
      const s: State = { ctx, events };
      await runCase(s, {
        steps: [
          {
            name: 'deploy the environment',
            run: async () => deployEnvironment(ctx, await inputsFromSpecs(ENV, [], paths()), { parallel: 2 }),
            check: async (_s, r) => {
              const res = r as Awaited<ReturnType<typeof deployEnvironment>>;
              expect(
                res.results.map((x) => `${x.job}:${x.outcome}`),
                JSON.stringify(res.results.map((x) => x.message)),
              ).to.deep.equal([`${a}:successful`, `${b}:successful`]);
              expect(res.exitCode).to.equal(0);
              // Grouped: all of a's events come before b's done, or after it — never interleaved.
              const jobsInOrder = events.flatMap((e) => ('job' in e && (e.job === a || e.job === b) && e.kind !== 'deploy.plan' ? [e.job] : []));
              const switches = jobsInOrder.filter((j, i) => i > 0 && j !== jobsInOrder[i - 1]).length;
              expect(switches, jobsInOrder.join(',')).to.equal(1);
              expect((await ctx.nomad.jobs.get(a))?.Namespace).to.equal(NS);
            },
          },
          {
            name: 'remove b from the specs; the plan keeps it',
            run: async () => {
              rmSync(join(dir, 'services', `${b}.yaml`));
              return planEnvironment(ctx, await inputsFromSpecs(ENV, [], paths()));
            },
            check: (_s, r) => {
              const doc = (r as Awaited<ReturnType<typeof planEnvironment>>).document;
              expect(doc.stops).to.deep.equal([]);
              expect(doc.kept?.map((x) => x.id)).to.deep.equal([b]);
              expect(doc.jobs.map((j) => [j.id, j.action])).to.deep.equal([[a, 'none']]);
              expect(doc.changes).to.equal(false);
            },
          },
          {
            name: 'plan (CLI) lists it first as kept, exit 0',
            run: () => hashiship('plan'),
            check: (_s, r) => {
              const { code, out, err } = r as R;
              expect(code, err).to.equal(0);
              expect(out.split('\n')[0]).to.match(
                new RegExp(
                  `^${b}: not in specs \\(kept; --prune to stop\\)  \\(namespace ${NS}; job modify index \\d+; owned by hashiship in ${ENV}; its spec was removed\\)$`,
                ),
              );
              expect(out).to.include('0 to stop, 1 unchanged, 1 not in specs (kept).');
            },
          },
          {
            name: 'deploy (CLI) without --prune leaves it running',
            run: () => hashiship('deploy'),
            check: async (_s, r) => {
              const { code, out, err } = r as R;
              expect(code, err).to.equal(0);
              expect(out).to.match(new RegExp(`${a}\\s+unchanged`));
              expect(out).not.to.include(b);
              expect(err).to.include(
                `plan     ${b}: not in specs (kept; --prune to stop) (namespace ${NS}; owned by hashiship in ${ENV}; its spec was removed)`,
              );
              await stillRuns(b);
            },
          },
          {
            name: 'plan --prune (CLI) lists it first as a stop, exit 1',
            run: () => hashiship('plan', '--prune'),
            check: (_s, r) => {
              const { code, out } = r as R;
              expect(code).to.equal(1);
              expect(out.split('\n')[0]).to.match(new RegExp(`^${b}: will be STOPPED \\(--prune\\)  \\(namespace ${NS}; job modify index \\d+;`));
            },
          },
          {
            name: 'deploy --prune (CLI) stops it: 1 of the 2 owned jobs is within the limit',
            run: () => hashiship('deploy', '--prune'),
            check: async (_s, r) => {
              const { code, out, err } = r as R;
              expect(code, err).to.equal(0);
              expect(out).to.match(new RegExp(`${b}\\s+stopped`));
              expect((await ctx.nomad.jobs.get(b))?.Stop).to.equal(true);
              await stillRuns(a);
            },
          },
          {
            name: 'rename a to c: deploy --prune would stop the only job, refused with exit 6, nothing registered',
            run: async () => {
              rmSync(join(dir, 'services', `${a}.yaml`));
              writeFileSync(join(dir, 'services', `${c}.yaml`), spec(c));
              return hashiship('deploy', '--prune');
            },
            check: async (_s, r) => {
              const { code, err } = r as R;
              expect(code).to.equal(6);
              expect(err).to.include(
                `--prune would stop 1 of the 1 job hashiship owns in ${ENV}; without --force it stops at most 1 job and at most half of them`,
              );
              expect(err).to.include(`Would stop: ${a}`);
              expect(await ctx.nomad.jobs.get(c)).to.equal(undefined);
              await stillRuns(a);
            },
          },
          {
            name: 'an empty services folder never prunes: exit 1, a still runs',
            run: async () => {
              const empty = join(dir, 'empty');
              mkdirSync(empty, { recursive: true });
              return withEnv({ ...stack.env, NOMAD_NAMESPACE: NS }, () =>
                cli('deploy', '--prune', '--env', ENV, '--services', empty, '--environments', join(dir, 'environments')),
              );
            },
            check: async (_s, r) => {
              expect((r as R).code).to.equal(1);
              await stillRuns(a);
            },
          },
          {
            name: 'deploy --prune --force deploys c, then stops a',
            run: () => hashiship('deploy', '--prune', '--force'),
            check: async (_s, r) => {
              const { code, out, err } = r as R;
              expect(code, err).to.equal(0);
              expect(out).to.match(new RegExp(`${c}\\s+successful`));
              expect(out).to.match(new RegExp(`${a}\\s+stopped`));
              expect((await ctx.nomad.jobs.get(a))?.Stop).to.equal(true);
              await stillRuns(c);
            },
          },
        ],
        cleanup: () => purge(ctx.nomad, a, b, c),
      });
    });
  });

  describe('the command line', () => {
    const saved: Record<string, string | undefined> = {};
    let dir: string;
    before(() => {
      for (const [k, v] of Object.entries(stack.env)) {
        saved[k] = process.env[k];
        process.env[k] = v;
      }
      dir = mkdtempSync(join(tmpdir(), 'hashiship-cli-'));
    });
    after(() => {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      rmSync(dir, { recursive: true, force: true });
    });

    it('plan exits 1 with changes and 0 without; deploy --plan applies the saved plan; a stale plan exits 6', async function () {
      this.timeout(180_000);
      const id = jid('cli');
      const file = join(dir, 'job.json');
      const planFile = join(dir, 'plan.json');
      const write = (v: string) => writeFileSync(file, JSON.stringify({ Job: webJob(id, { version: v }) }));
      const run = (...args: string[]) => cli(...args, '--env', ENV, '--job', file);
      type R = Awaited<ReturnType<typeof cli>>;
      const s = state();
      await runCase(s, {
        steps: [
          {
            name: 'plan --json --out for a new job: exit 1',
            run: async () => (write('1'), run('plan', '--out', planFile, '--json')),
            check: (_s, r) => {
              const { code, out } = r as R;
              expect(code).to.equal(1);
              const doc = JSON.parse(out) as { jobs: { id: string; action: string; jobModifyIndex: number }[] };
              expect(doc.jobs[0]).to.include({ id, action: 'create', jobModifyIndex: 0 });
            },
          },
          {
            name: 'deploy --plan',
            run: () => run('deploy', '--plan', planFile),
            check: async (_s, r) => {
              const { code, out, err } = r as R;
              expect(code, err).to.equal(0);
              expect(out).to.match(new RegExp(`${id}\\s+successful`));
              expect(err).to.include(`deploy   ${id}: registered`);
              await jobVersion(s.ctx.nomad, id, 0);
            },
          },
          {
            name: 'plan again: no changes, exit 0',
            run: () => run('plan'),
            check: (_s, r) => (expect((r as R).code).to.equal(0), expect((r as R).out).to.include('no changes')),
          },
          {
            name: 'plan v2 and save it: exit 1 with the field diff',
            run: async () => (write('2'), run('plan', '--out', planFile)),
            check: (_s, r) => {
              expect((r as R).code).to.equal(1);
              expect((r as R).out).to.include('+/- Env[APP_VERSION]: "1" => "2"');
              expect((r as R).out).to.include('(1 create/destroy update)');
            },
          },
          {
            name: 'the job changes meanwhile; deploy --plan exits 6',
            run: async () => {
              const live = await s.ctx.nomad.jobs.get(id);
              await s.ctx.nomad.jobs.register({ ...live!, Meta: { ...live!.Meta, touched: 'yes' } });
              return run('deploy', '--plan', planFile);
            },
            check: async (_s, r) => {
              expect((r as R).code).to.equal(6);
              expect((r as R).err).to.include('the job changed since it was planned');
              await jobVersion(s.ctx.nomad, id, 1);
            },
          },
          {
            name: 'a missing job file makes plan exit 255 and deploy exit 1',
            run: async () => [
              await cli('plan', '--env', ENV, '--job', join(dir, 'missing.json')),
              await cli('deploy', '--env', ENV, '--job', join(dir, 'missing.json')),
            ],
            check: (_s, r) => {
              const [plan, deploy] = r as R[];
              expect(plan?.code).to.equal(255);
              expect(plan?.err).to.include('missing.json: no such file');
              expect(deploy?.code).to.equal(1);
            },
          },
        ],
        cleanup: () => purge(s.ctx.nomad, id),
      });
    });
  });
});
