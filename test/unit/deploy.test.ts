/**
 * The deploy engine's pure parts: ownership, count preservation, canary and
 * allocation state, task events → causes, placement metrics, the diagnosis
 * layout, exit-code folding, grouping of concurrent output, and the blocking
 * index rules.
 */
import { expect } from 'chai';
import { ExitCode } from '../../src/errors.js';
import type { Event } from '../../src/log.js';
import { collecting } from '../../src/log.js';
import type { AllocationStub, TaskEvent } from '../../src/nomad/allocations.js';
import { nextIndex, blockingTimeoutMs } from '../../src/nomad/blocking.js';
import type { Deployment } from '../../src/nomad/deployments.js';
import type { LiveJob } from '../../src/nomad/jobs.js';
import { allocOfServiceId, consulServicesOf, CheckTracker } from '../../src/deploy/checks.js';
import { mapLimit } from '../../src/concurrency.js';
import { defaultTimeoutMs, deployEnvironment, planEnvironment, worstExitCode } from '../../src/deploy/deploy.js';
import { planDocument } from '../../src/deploy/plan.js';
import { createClients } from '../../src/clients.js';
import { createDeployContext } from '../../src/deploy/runtime.js';
import { resolveConfig } from '../../src/config/index.js';
import { causeOf, describePlacement, eventTrail, formatDiagnosis, lastLines, type Diagnosis } from '../../src/deploy/diagnose.js';
import { describeDeployEvent, groupedLogger } from '../../src/deploy/events.js';
import { checkOwnership, ownershipOf, preserveCounts, scaledGroups, stampOwnership } from '../../src/deploy/register.js';
import { allocHealth, canaryState, expectedAllocs, expectsDeployment, healthyComplete } from '../../src/deploy/watch.js';
import { GateError, InputError, ServerError } from '../../src/errors.js';
import { reportError } from '../../src/cli.js';
import { redactorFromEnv } from '../../src/redact.js';

const live = (over: Partial<LiveJob> = {}): LiveJob => ({
  ID: 'web',
  Version: 3,
  JobModifyIndex: 100,
  ModifyIndex: 101,
  CreateIndex: 10,
  Meta: { hashiship_tool: 'hashiship', hashiship_environment: 'qa' },
  TaskGroups: [{ Name: 'web', Count: 5 }],
  ...over,
});

const ev = (Type: string, more: Partial<TaskEvent> = {}): TaskEvent => ({ Type, Time: 0, ...more });

const alloc = (over: Partial<AllocationStub> = {}): AllocationStub => ({
  ID: '0b6e1c9a-1111-2222-3333-444455556666',
  Name: 'web.web[0]',
  JobID: 'web',
  JobVersion: 4,
  TaskGroup: 'web',
  DesiredStatus: 'run',
  ClientStatus: 'running',
  CreateIndex: 1,
  ModifyIndex: 2,
  ...over,
});

describe('deploy: ownership', () => {
  it('owns only jobs stamped by hashiship for the same environment', () => {
    expect(ownershipOf(undefined, 'qa')).to.deep.equal({ status: 'absent' });
    expect(ownershipOf(live(), 'qa')).to.deep.equal({ status: 'owned' });
    expect(ownershipOf(live({ Meta: {} }), 'qa').status).to.equal('foreign');
    const other = ownershipOf(live(), 'production');
    expect(other.status).to.equal('foreign');
    expect(other.status === 'foreign' && other.detail).to.include('"qa"');
  });

  it('refuses a foreign job with exit 6 unless forced', () => {
    const foreign = ownershipOf(live({ Meta: null }), 'qa');
    expect(() => checkOwnership('web', 'qa', foreign, false))
      .to.throw(GateError)
      .with.property('exitCode', 6);
    expect(() => checkOwnership('web', 'qa', foreign, true)).not.to.throw();
    expect(() => checkOwnership('web', 'qa', { status: 'owned' }, false)).not.to.throw();
  });

  it('stamps tool and environment, keeping other meta', () => {
    const j = stampOwnership({ ID: 'web', Meta: { team: 'a' } }, 'qa');
    expect(j.Meta).to.deep.equal({ team: 'a', hashiship_tool: 'hashiship', hashiship_environment: 'qa' });
  });
});

describe('deploy: counts set by the autoscaler', () => {
  const job = {
    ID: 'web',
    TaskGroups: [
      { Name: 'web', Count: 2, Scaling: { Min: 1, Max: 4, Enabled: true } },
      { Name: 'db', Count: 1 },
    ],
  };
  const scale = {
    JobID: 'web',
    TaskGroups: {
      web: {
        Events: [
          { Count: 5, Time: 2, Message: 'scaled by autoscaler' },
          { Count: 3, Time: 1 },
        ],
      },
    },
  };

  it('finds groups whose count scaling set', () => {
    const l = live({
      TaskGroups: [
        { Name: 'web', Count: 5 },
        { Name: 'db', Count: 1 },
      ],
    });
    expect([...scaledGroups(l, scale).keys()]).to.deep.equal(['web']);
    // A later registration changed the count again: scaling no longer owns it.
    const reRegistered = live({ TaskGroups: [{ Name: 'web', Count: 2 }] });
    expect(scaledGroups(reRegistered, scale).size).to.equal(0);
    // An enabled policy owns the count even before its first event.
    const policy = live({ TaskGroups: [{ Name: 'web', Count: 3, Scaling: { Enabled: true } }] });
    expect(scaledGroups(policy, undefined).get('web')).to.include('scaling policy');
  });

  it('keeps the live count clamped to the new bounds, unless reset', () => {
    const l = live({
      TaskGroups: [
        { Name: 'web', Count: 5 },
        { Name: 'db', Count: 3 },
      ],
    });
    const { job: kept, preserved } = preserveCounts(job, l, scaledGroups(l, scale), false);
    expect(kept.TaskGroups?.[0]?.Count).to.equal(4); // live 5, max 4
    expect(kept.TaskGroups?.[1]?.Count).to.equal(1); // db was not scaled: the spec wins
    expect(preserved).to.have.length(1);
    expect(preserved[0]).to.include({ group: 'web', count: 4, spec: 2 });
    const reset = preserveCounts(job, l, scaledGroups(l, scale), true);
    expect(reset.job).to.equal(job);
    expect(reset.preserved).to.deep.equal([]);
  });
});

describe('deploy: deployment and allocation state', () => {
  const dep = (groups: NonNullable<Deployment['TaskGroups']>): Deployment => ({
    ID: 'd1',
    JobID: 'web',
    JobVersion: 4,
    Status: 'running',
    StatusDescription: 'Deployment is running but requires manual promotion',
    TaskGroups: groups,
    CreateIndex: 1,
    ModifyIndex: 2,
  });

  it('sees canaries ready only when every unpromoted group has them placed and healthy', () => {
    expect(canaryState(dep({ web: { DesiredCanaries: 1, PlacedCanaries: ['a'], HealthyAllocs: 1 } }))).to.deep.equal({
      groups: ['web'],
      ready: true,
      auto: false,
    });
    expect(canaryState(dep({ web: { DesiredCanaries: 2, PlacedCanaries: ['a', 'b'], HealthyAllocs: 1 } })).ready).to.equal(false);
    expect(canaryState(dep({ web: { DesiredCanaries: 1, PlacedCanaries: ['a'], HealthyAllocs: 1, Promoted: true } })).groups).to.deep.equal([]);
    expect(canaryState(dep({ web: { DesiredCanaries: 1, PlacedCanaries: ['a'], HealthyAllocs: 1, AutoPromote: true } })).auto).to.equal(true);
    expect(canaryState(dep({ web: { DesiredTotal: 2 } })).ready).to.equal(false);
  });

  it('knows the outcome once every group is placed and healthy with canaries promoted', () => {
    expect(healthyComplete(dep({ web: { DesiredTotal: 2, PlacedAllocs: 2, HealthyAllocs: 2 } }))).to.equal(true);
    expect(healthyComplete(dep({ web: { DesiredTotal: 2, PlacedAllocs: 2, HealthyAllocs: 1 } }))).to.equal(false);
    expect(healthyComplete(dep({ web: { DesiredTotal: 1, PlacedAllocs: 1, HealthyAllocs: 1, DesiredCanaries: 1 } }))).to.equal(false);
    expect(healthyComplete(dep({ web: { DesiredTotal: 1, PlacedAllocs: 1, HealthyAllocs: 1, DesiredCanaries: 1, Promoted: true } }))).to.equal(true);
    expect(healthyComplete(dep({ web: { DesiredTotal: 1, PlacedAllocs: 1, HealthyAllocs: 1 }, db: { DesiredTotal: 1, PlacedAllocs: 0 } }))).to.equal(false);
    expect(healthyComplete({ ...dep({ web: { DesiredTotal: 1, PlacedAllocs: 1, HealthyAllocs: 1 } }), Status: 'paused' })).to.equal(false);
  });

  it('names an allocation state in one word', () => {
    expect(allocHealth(alloc({ ClientStatus: 'pending' }))).to.equal('placed');
    expect(allocHealth(alloc())).to.equal('running');
    expect(allocHealth(alloc({ DeploymentStatus: { Healthy: true } }))).to.equal('healthy');
    expect(allocHealth(alloc({ DeploymentStatus: { Healthy: false } }))).to.equal('unhealthy');
    expect(allocHealth(alloc({ ClientStatus: 'failed' }))).to.equal('failed');
    expect(allocHealth(alloc({ ClientStatus: 'complete', DesiredStatus: 'stop' }))).to.equal('stopped');
    expect(allocHealth(alloc({ ClientStatus: 'complete' }))).to.equal('complete');
  });

  it('knows which jobs get a deployment and how many allocations to expect', () => {
    expect(expectsDeployment({ ID: 'a', Type: 'service', TaskGroups: [{ Name: 'g', Update: { MaxParallel: 1 } }] })).to.equal(true);
    expect(expectsDeployment({ ID: 'a', Type: 'service', TaskGroups: [{ Name: 'g' }] })).to.equal(false);
    expect(expectsDeployment({ ID: 'a', Type: 'service', Update: { MaxParallel: 2 }, TaskGroups: [{ Name: 'g' }] })).to.equal(true);
    expect(expectsDeployment({ ID: 'a', Type: 'batch', TaskGroups: [{ Name: 'g', Update: { MaxParallel: 1 } }] })).to.equal(false);
    expect(expectedAllocs({ ID: 'a', TaskGroups: [{ Name: 'g', Count: 2 }, { Name: 'h' }] })).to.equal(3);
    expect(expectedAllocs({ ID: 'a', Type: 'system', TaskGroups: [{ Name: 'g' }] })).to.equal(undefined);
  });

  it('gives a deadline of twice the progress deadline plus two minutes', () => {
    expect(defaultTimeoutMs({ ID: 'a', TaskGroups: [{ Name: 'g', Update: { ProgressDeadline: 60e9 } }] })).to.equal(240_000);
    expect(defaultTimeoutMs({ ID: 'a' })).to.equal(1_320_000);
  });
});

describe('deploy: task events → cause', () => {
  const withTask = (events: TaskEvent[], more: Partial<{ Failed: boolean; State: string; Restarts: number }> = {}) =>
    alloc({ ClientStatus: 'failed', TaskStates: { web: { State: 'dead', Failed: true, Events: events, ...more } } });

  it('driver failure', () => {
    const c = causeOf(
      withTask([ev('Received'), ev('Driver Failure', { Details: { driver_error: 'failed to launch command with executor: exec: "/nope": no such file' } })]),
    );
    expect(c.cause).to.equal('driver failure: failed to launch command with executor: exec: "/nope": no such file');
    expect(c.task).to.equal('web');
  });

  it('artifact download', () => {
    const c = causeOf(withTask([ev('Failed Artifact Download', { DownloadError: 'GET error: bad response code: 404' })]));
    expect(c.cause).to.equal('artifact download failed: GET error: bad response code: 404');
  });

  it('OOM with the memory limit', () => {
    const a = {
      ...withTask([ev('Terminated', { Details: { exit_code: '137', oom_killed: 'true' } })]),
      Job: { TaskGroups: [{ Name: 'web', Tasks: [{ Name: 'web', Resources: { MemoryMB: 64 } }] }] },
    };
    expect(causeOf(a).cause).to.equal('OOM killed (memory limit 64 MB)');
  });

  it('restarts exhausted, with the last exit code', () => {
    const c = causeOf(
      withTask(
        [
          ev('Started'),
          ev('Terminated', { Details: { exit_code: '3' } }),
          ev('Restarting'),
          ev('Started'),
          ev('Terminated', { Details: { exit_code: '3' } }),
          ev('Not Restarting', { Details: { restart_reason: 'Exceeded allowed attempts 1 in interval 30m0s and mode is "fail"' } }),
        ],
        { Restarts: 1 },
      ),
    );
    expect(c.cause).to.equal(
      'restarts exhausted after 1 restart: last run exited with code 3 (Exceeded allowed attempts 1 in interval 30m0s and mode is "fail")',
    );
    expect(c.details[0]).to.include('Terminated (exited with code 3) → Not Restarting');
  });

  it('killed by a signal', () => {
    expect(causeOf(withTask([ev('Terminated', { ExitCode: 0, Signal: 9 })])).cause).to.equal('task killed by signal 9');
  });

  it('failed health check, with the check output kept while it was visible', () => {
    const a = alloc({
      DeploymentStatus: { Healthy: false },
      TaskStates: {
        web: { State: 'running', Failed: false, Events: [ev('Started'), ev('Alloc Unhealthy', { Message: 'Services not healthy by deadline: web' })] },
      },
    });
    const checks = [
      {
        allocId: a.ID,
        service: 'web',
        check: 'web-alive',
        status: 'critical',
        output: 'HTTP GET http://127.0.0.1:23456/missing: 404 Not Found Output: nope',
        lastFailure: 'HTTP GET http://127.0.0.1:23456/missing: 404 Not Found Output: nope',
      },
    ];
    const c = causeOf(a, checks);
    expect(c.cause).to.equal('health check "web-alive" (service web) failed: HTTP GET http://127.0.0.1:23456/missing: 404 Not Found');
    expect(c.details[0]).to.equal('check output: nope');
    expect(causeOf(a, []).cause).to.equal('unhealthy: Services not healthy by deadline: web');
  });

  it('event trail and log tail helpers', () => {
    expect(eventTrail([ev('Received'), ev('Started'), ev('Terminated', { ExitCode: 3 })])).to.equal('Received → Started → Terminated (exited with code 3)');
    expect(lastLines('a\nb\nc\n', 2)).to.deep.equal(['b', 'c']);
  });
});

describe('deploy: placement metrics and the diagnosis layout', () => {
  it('describes placement like nomad job plan', () => {
    expect(
      describePlacement({
        NodesEvaluated: 1,
        NodesAvailable: { dc1: 1, dc9: 0 },
        ConstraintFiltered: { '${attr.kernel.name} = windows': 1 },
        NodesExhausted: 1,
        DimensionExhausted: { memory: 1 },
      }),
    ).to.deep.equal([
      '* No nodes are available in datacenter "dc9"',
      '* Constraint "${attr.kernel.name} = windows": 1 nodes excluded by filter',
      '* Resources exhausted on 1 nodes',
      '* Dimension "memory" exhausted on 1 nodes',
    ]);
  });

  it('fits one screen: one allocation in detail with 20 stderr lines, the others on one line each', () => {
    const one = {
      allocId: '0b6e1c9a-1111-2222-3333-444455556666',
      group: 'web',
      version: 4,
      canary: false,
      cause: { task: 'web', cause: 'task exited with code 3', details: ['events of task web: Started → Terminated (exited with code 3)'] },
      stderr: Array.from({ length: 20 }, (_, i) => `boom ${i}`),
    };
    const d: Diagnosis = {
      job: 'web',
      headline: 'deployment failed: Failed due to unhealthy allocations; not rolled back',
      notes: ['Not reverted: no stable version'],
      allocations: [one, ...Array.from({ length: 4 }, () => ({ ...one, stderr: [] }))],
      placement: [],
      more: 7,
    };
    const lines = formatDiagnosis(d);
    expect(lines.length).to.be.at.most(45);
    expect(lines[0]).to.equal('Diagnosis of web: deployment failed: Failed due to unhealthy allocations; not rolled back');
    expect(lines).to.include('    Cause: task exited with code 3');
    expect(lines).to.include('      | boom 19');
    expect(lines.filter((l) => l.includes('boom'))).to.have.length(20);
    expect(lines[lines.length - 1]).to.include('7 more failed allocations');
  });
});

describe('deploy: several services', () => {
  it('exits with the worst failure; 10 only when nothing failed', () => {
    expect(worstExitCode([0, 0])).to.equal(0);
    expect(worstExitCode([0, 10])).to.equal(10);
    expect(worstExitCode([10, 3, 0])).to.equal(3);
    expect(worstExitCode([3, 4, 10])).to.equal(4);
    expect(worstExitCode([5, 6, 2])).to.equal(5); // placement failed outranks a refusal (errors.ts ExitCodeOrder)
    expect(worstExitCode([])).to.equal(ExitCode.ok);
  });

  it('runs at most `limit` at once and keeps the order of results', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, n * 3));
      running--;
      return n * 10;
    });
    expect(out).to.deep.equal([50, 10, 40, 20, 30]);
    expect(peak).to.equal(2);
  });

  it("keeps each service's lines together and combines heartbeats", () => {
    const inner = collecting();
    let t = 0;
    const log = groupedLogger(inner, { heartbeatMs: 30_000, now: () => t });
    log({ kind: 'deploy.register', job: 'a', evalId: 'e1', jobModifyIndex: 1 });
    log({ kind: 'deploy.register', job: 'b', evalId: 'e2', jobModifyIndex: 2 });
    log({ kind: 'deploy.skip', job: 'a', reason: 'x' });
    t = 10_000;
    log({ kind: 'heartbeat', waitingFor: 'a: deployment', seconds: 10 });
    expect(inner.events).to.deep.equal([]);
    t = 31_000;
    log({ kind: 'heartbeat', waitingFor: 'b: deployment', seconds: 31 });
    log({ kind: 'deploy.done', job: 'b', outcome: 'successful', exitCode: 0, seconds: 31, message: '' });
    log({ kind: 'deploy.done', job: 'a', outcome: 'failed', exitCode: 4, seconds: 31, message: '' });
    const kinds = inner.events.map((e: Event) => `${e.kind}${'job' in e ? `:${e.job}` : ''}`);
    expect(kinds).to.deep.equal(['heartbeat', 'deploy.register:b', 'deploy.done:b', 'deploy.register:a', 'deploy.skip:a', 'deploy.done:a']);
    expect((inner.events[0] as { waitingFor: string }).waitingFor).to.equal('2 services: a, b');
  });

  it('prints a plain line for every deploy event', () => {
    expect(
      describeDeployEvent({
        kind: 'deploy.deployment',
        job: 'web',
        deploymentId: '1234567890',
        version: 3,
        status: 'running',
        description: 'Deployment is running',
        healthy: 1,
        desired: 2,
        canaries: 1,
      }),
    ).to.equal('deploy   web: deployment 12345678 (v3) running: 1/2 healthy, 1 canary — Deployment is running');
    expect(describeDeployEvent({ kind: 'deploy.done', job: 'web', outcome: 'reverted', exitCode: 3, seconds: 12.34, message: 'rolled back' })).to.equal(
      'deploy   web: reverted (exit 3) after 12.3 s — rolled back',
    );
    expect(describeDeployEvent({ kind: 'deploy.plan', job: 'old', action: 'keep', detail: 'owned by hashiship in qa; its spec was removed' })).to.equal(
      'plan     old: not in specs (kept; --prune to stop) (owned by hashiship in qa; its spec was removed)',
    );
  });
});

describe('deploy: printed errors', () => {
  it('carry their exit code and never the configured tokens', () => {
    const r = redactorFromEnv({ NOMAD_TOKEN: 'a1b2c3d4-secret-token', NOMAD_HTTP_AUTH: 'ops:pa55word', PATH: '/usr/bin' });
    let text = '';
    const code = reportError(
      new ServerError('nomad', 'jobs.plan', 'http://127.0.0.1:4646', '403 Forbidden: ACL token a1b2c3d4-secret-token not found (ops:pa55word)'),
      (s) => (text += s),
      r,
    );
    expect(code).to.equal(2);
    expect(text).to.include('nomad: jobs.plan: 403 Forbidden');
    expect(text).not.to.include('pa55word');
    expect(text).not.to.include('a1b2c3d4');
    expect(reportError(new GateError('x: refused'), () => undefined, r)).to.equal(6);
  });
});

describe('deploy: Consul checks and blocking indexes', () => {
  it('finds the allocation in a Nomad-registered service ID and the Consul services of a job', () => {
    expect(allocOfServiceId('_nomad-task-0b6e1c9a-1111-2222-3333-444455556666-group-web-web-http')).to.equal('0b6e1c9a-1111-2222-3333-444455556666');
    expect(allocOfServiceId('web-1')).to.equal(undefined);
    expect(
      consulServicesOf({
        ID: 'x',
        TaskGroups: [{ Name: 'g', Services: [{ Name: 'web' }, { Name: 'nomadonly', Provider: 'nomad' }], Tasks: [{ Name: 't', Services: [{ Name: 'api' }] }] }],
      }),
    ).to.deep.equal(['api', 'web']);
  });

  it('keeps the last failing output of a check after it passes or vanishes', () => {
    const seen: string[] = [];
    const t = new CheckTracker(createClients(resolveConfig({ env: { CONSUL_HTTP_ADDR: 'http://127.0.0.1:1' }, home: '/nonexistent' })).consul.client, (r) =>
      seen.push(r.status),
    );
    const row = { CheckID: 'c1', Name: 'alive', ServiceID: '_nomad-task-0b6e1c9a-1111-2222-3333-444455556666-group-web-web-http', ServiceName: 'web' };
    t.record([{ ...row, Status: 'critical', Output: '' }]); // as Nomad registers it: critical, no output yet
    t.record([{ ...row, Status: 'critical', Output: 'HTTP GET /missing: 404 Not Found' }]);
    t.record([{ ...row, Status: 'critical', Output: '' }]); // a lagging catalog answer keeps the known output
    expect(t.forAlloc('0b6e1c9a-1111-2222-3333-444455556666')[0]?.output).to.equal('HTTP GET /missing: 404 Not Found');
    t.record([{ ...row, Status: 'passing', Output: 'HTTP GET /: 200 OK' }]);
    expect(seen).to.deep.equal(['passing']); // the first sighting is silent, changes are reported
    const [rec] = t.forAlloc('0b6e1c9a-1111-2222-3333-444455556666');
    expect(rec?.lastFailure).to.equal('HTTP GET /missing: 404 Not Found');
  });

  it('resets a blocking index that goes backwards and waits longer than the query', () => {
    expect(nextIndex(10, 12)).to.equal(12);
    expect(nextIndex(10, 5)).to.equal(0);
    expect(nextIndex(10, Number.NaN)).to.equal(0);
    expect(blockingTimeoutMs(30_000)).to.be.greaterThan(30_000 + 30_000 / 16);
  });
});

describe('deploy: --prune refusals come before any request', () => {
  // Nothing listens on port 9 of loopback: a request would end in a ServerError (exit 2), not an InputError.
  const log = collecting();
  const config = resolveConfig({ env: { NOMAD_ADDR: 'http://127.0.0.1:9' }, home: '/nonexistent' });
  const ctx = createDeployContext(config, log, createClients(config));
  const web = { job: { ID: 'web', Type: 'service' }, source: 'web.yaml' };
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => e,
    );

  it('an empty spec set never prunes; --prune needs the whole environment; --force needs --prune', async () => {
    const empty = await failure(deployEnvironment(ctx, { environment: 'qa', inputs: [], complete: true }, { prune: true }));
    expect(empty).to.be.instanceOf(InputError);
    expect((empty as InputError).message).to.match(/^--prune: the set of services is empty/);
    const named = await failure(planEnvironment(ctx, { environment: 'qa', inputs: [web], complete: false }, { prune: true }));
    expect((named as InputError).message).to.match(/^--prune: needs the whole environment/);
    const force = await failure(deployEnvironment(ctx, { environment: 'qa', inputs: [web], complete: true }, { forcePrune: true }));
    expect((force as InputError).message).to.match(/^--force: only applies with --prune/);
    expect(log.events).to.deep.equal([]);
  });

  it('a saved plan that stops jobs is applied only with --prune', async () => {
    const saved = planDocument('qa', [], [{ id: 'old-report', jobModifyIndex: 311, reason: 'owned by hashiship in qa; its spec was removed' }], new Date(0));
    const err = await failure(deployEnvironment(ctx, { environment: 'qa', inputs: [web], complete: true }, { plan: saved }));
    expect(err).to.be.instanceOf(InputError);
    expect((err as InputError).message).to.equal('--plan: the plan stops old-report (jobs without a spec); deploy stops jobs only with --prune');
    expect(log.events).to.deep.equal([]);
  });
});
