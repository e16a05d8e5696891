/**
 * The pure parts of promotion: the planner's decisions (refuse, nothing, run,
 * resume, clean up an abandoned run), step lists, `--image`/`--steps` parsing,
 * the previous release of a rollback, and the artifacts an exec/raw_exec task
 * with an image renders to (its layers by digest from the environment's registry).
 */
import { expect } from 'chai';
import { parseSteps } from '../../src/commands/promote.js';
import { ExitCode } from '../../src/errors.js';
import { renderJob, registryUrl } from '../../src/nomad/render.js';
import { parseImageFlags } from '../../src/release/image.js';
import { policyOf } from '../../src/release/promotion/flow.js';
import { checkSteps, DefaultPolicy, formatPlan, planPromotion, type PlanInput, type PromotionProgress } from '../../src/release/promotion/plan.js';
import type { ReleaseRecord } from '../../src/release/records.js';
import { previousRelease } from '../../src/release/rollback.js';
import type { ResolvedService } from '../../src/service-spec/overlay.js';
import type { EnvironmentSpec, ServiceSpec } from '../../src/service-spec/types.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const NOW = Date.parse('2026-11-23T12:00:00Z');

function record(o: Partial<ReleaseRecord> = {}): ReleaseRecord {
  return {
    kind: 'hashiship.release',
    version: 1,
    service: 'sample',
    environment: 'qa',
    seq: 3,
    images: [{ repository: 'hashiship/sample', registry: '127.0.0.1:5001', digest: o.digest ?? D('a'), tag: '42' }],
    digest: D('a'),
    jobVersion: 5,
    build: '42',
    time: '2026-11-23T11:00:00Z',
    health: { passing: 1, total: 1, at: '2026-11-23T11:00:00Z' },
    smoke: { passed: true, requests: [] },
    via: 'deploy',
    ...o,
  };
}

function progress(o: Partial<PromotionProgress> = {}): PromotionProgress {
  return {
    kind: 'hashiship.promotion',
    version: 1,
    service: 'sample',
    from: 'qa',
    to: 'production',
    digest: D('a'),
    done: ['copy', 'canary', 'gate'],
    status: 'running',
    startedAt: '2026-11-23T11:50:00Z',
    updatedAt: '2026-11-23T11:51:00Z',
    ...o,
  };
}

const input = (o: Partial<PlanInput> = {}): PlanInput => ({
  service: 'sample',
  from: 'qa',
  to: 'production',
  source: record(),
  approve: false,
  policy: DefaultPolicy,
  now: NOW,
  ...o,
});

describe('promote: the planner (pure)', () => {
  it('plans copy → canary → gate → smoke → weights (10, 50) → promote → unweight → record', () => {
    const p = planPromotion(input());
    expect(p.decision).to.equal('run');
    if (p.decision !== 'run') return;
    expect(p.steps.map((s) => s.name)).to.deep.equal(['copy', 'canary', 'gate', 'smoke', 'weight:10', 'weight:50', 'promote', 'unweight', 'record']);
    expect(p.digest).to.equal(D('a'));
    expect(p.resumed).to.deep.equal([]);
    expect(formatPlan(p, 'qa', 'production')[0]).to.equal(`sample: promote ${D('a')} (build 42) from qa to production`);
    const custom = planPromotion(input({ policy: { ...DefaultPolicy, steps: [5, 25, 100] } }));
    expect(custom.decision === 'run' && custom.steps.filter((s) => s.name.startsWith('weight:')).map((s) => s.name)).to.deep.equal(['weight:5', 'weight:25']);
  });

  it('refuses without evidence, for another build, for failed evidence, before the soak and without approval', () => {
    const refused = (o: Partial<PlanInput> | PlanInput) => {
      const p = planPromotion('service' in o ? (o as PlanInput) : input(o));
      expect(p.decision, JSON.stringify(p)).to.equal('refuse');
      return p.decision === 'refuse' ? p.reason : '';
    };
    const { source: _none, ...noSource } = input();
    expect(refused(noSource)).to.contain('no release of sample in qa');
    expect(refused({ build: '43' })).to.contain('build 43 of sample has no evidence in qa: its current release is build 42');
    expect(refused({ source: record({ smoke: { passed: false, requests: [] } }) })).to.contain('did not pass');
    expect(refused({ source: record({ health: { passing: 0, total: 1, at: '' } }) })).to.contain('health 0/1');
    expect(refused({ policy: { ...DefaultPolicy, minSoakMs: 2 * 3600_000 } })).to.contain('soaked 60 min; production requires 2.0 h');
    expect(refused({ policy: { ...DefaultPolicy, requireApproval: true } })).to.contain('requires manual approval');
    expect(planPromotion(input({ build: '42', approve: true, policy: { ...DefaultPolicy, requireApproval: true, minSoakMs: 3600_000 } })).decision).to.equal(
      'run',
    );
  });

  it('does nothing when the target already runs the digest (a re-run after success)', () => {
    const p = planPromotion(input({ target: record({ environment: 'production', seq: 7 }), progress: progress({ status: 'done' }) }));
    expect(p).to.include({ decision: 'nothing' });
    expect(p.decision === 'nothing' && p.reason).to.contain('already runs');
    // Also when nothing was ever recorded in progress (released by hand, or progress deleted).
    expect(planPromotion(input({ target: record({ environment: 'production' }) })).decision).to.equal('nothing');
  });

  it('resumes an unfinished run of the same digest from its recorded step, even when the record was already written', () => {
    const p = planPromotion(input({ progress: progress() }));
    expect(p.decision === 'run' && p.resumed).to.deep.equal(['copy', 'canary', 'gate']);
    expect(formatPlan(p, 'qa', 'production').filter((l) => l.endsWith('[done by an earlier run]'))).to.have.length(3);
    const late = planPromotion(
      input({
        target: record({ environment: 'production' }),
        progress: progress({ done: ['copy', 'canary', 'gate', 'smoke', 'weight:10', 'weight:50', 'promote', 'unweight'] }),
      }),
    );
    expect(late.decision === 'run' && late.steps.length - late.resumed.length).to.equal(1);
  });

  it('cleans up an unfinished run of another digest, and starts over after a failed one', () => {
    const p = planPromotion(input({ progress: progress({ digest: D('b') }) }));
    expect(p.decision === 'run' && p.abandoned?.digest).to.equal(D('b'));
    expect(p.decision === 'run' && p.resumed).to.deep.equal([]);
    const failed = planPromotion(input({ progress: progress({ status: 'failed' }) }));
    expect(failed.decision === 'run' && failed.resumed).to.deep.equal([]);
    expect(failed.decision === 'run' && failed.abandoned).to.equal(undefined);
  });

  it('checks step lists and flags', () => {
    expect(checkSteps([10, 50, 100])).to.equal(undefined);
    expect(checkSteps([100])).to.equal(undefined);
    expect(checkSteps([])).to.contain('at least one');
    expect(checkSteps([50, 10, 100])).to.contain('increase');
    expect(checkSteps([10, 50])).to.contain('last step must be 100');
    expect(checkSteps([0, 100])).to.contain('1 to 100');
    expect(parseSteps('10, 50,100')).to.deep.equal([10, 50, 100]);
    expect(() => parseSteps('10,half,100')).to.throw('--steps="10,half,100"');
    expect([...parseImageFlags(['web=42', `api=${D('c')}`])]).to.deep.equal([
      ['web', '42'],
      ['api', D('c')],
    ]);
    for (const bad of ['web', 'web=', '=42', 'web=sha256:abc', 'web=-x']) {
      try {
        parseImageFlags([bad]);
        expect.fail(`accepted ${bad}`);
      } catch (err) {
        expect((err as { exitCode: number }).exitCode).to.equal(ExitCode.badInput);
        expect((err as Error).message).to.contain(`--image=${JSON.stringify(bad)}`);
      }
    }
    expect(() => parseImageFlags(['web=1', 'web=2'])).to.throw('given twice');
  });

  it('rolls back to the newest earlier release with another digest that passed', () => {
    const h = [
      record({ seq: 1, digest: D('1') }),
      record({ seq: 2, digest: D('2') }),
      record({ seq: 3, digest: D('3'), smoke: { passed: false, requests: [] } }),
      record({ seq: 4, digest: D('4') }),
      record({ seq: 5, digest: D('4'), via: 'promote' }),
    ];
    expect(previousRelease(h, h[4]!)?.seq).to.equal(2);
    expect(previousRelease(h.slice(0, 1), h[0]!)).to.equal(undefined);
  });
});

describe('promote: the policy of a target environment', () => {
  const target = (promotion: EnvironmentSpec['promotion']) =>
    ({
      spec: { name: 'sample', groups: [] },
      file: 's.yaml',
      environment: { name: 'production', ...(promotion === undefined ? {} : { promotion }) },
    }) as unknown as ResolvedService;

  it("reads the environment file's promotion block; flags win; defaults otherwise", () => {
    expect(policyOf(target(undefined), {})).to.deep.equal(DefaultPolicy);
    const file = target({ require_approval: true, min_soak: '10m', steps: [25, 100], hold: '5s' });
    expect(policyOf(file, {})).to.deep.equal({ requireApproval: true, minSoakMs: 600_000, steps: [25, 100], holdMs: 5_000 });
    expect(policyOf(file, { steps: [10, 50, 100], holdMs: 1_000, minSoakMs: 0 })).to.deep.equal({
      requireApproval: true,
      minSoakMs: 0,
      steps: [10, 50, 100],
      holdMs: 1_000,
    });
  });

  it('refuses a bad step list as input (exit 1) naming --steps', () => {
    try {
      policyOf(target(undefined), { steps: [50, 10] });
      expect.fail('accepted 50,10');
    } catch (err) {
      expect((err as { exitCode: number }).exitCode).to.equal(ExitCode.badInput);
      expect((err as Error).message)
        .to.contain('--steps=50,10')
        .and.contain('increase');
    }
    expect(() => policyOf(target({ steps: [10, 50] }), {})).to.throw('production: promotion.steps: the last step must be 100');
  });
});

describe('promote: an exec/raw_exec task runs its image by digest', () => {
  const env: EnvironmentSpec = { name: 'production', registry: '127.0.0.1:5002', namespace: 'production' };
  const spec: ServiceSpec = {
    name: 'sample',
    groups: [{ name: 'web', tasks: [{ name: 'web', driver: 'raw_exec', command: '/usr/bin/python3', image: { repository: 'team/sample', tag: '7' } }] }],
  };
  const resolved = { spec, file: 'sample.yaml', environment: env, origin: () => ({}) } as unknown as ResolvedService;

  it('renders the layers as artifacts fetched from the environment registry with their checksums, and names the pinned image in task meta', () => {
    const job = renderJob(resolved, { digests: { 'team/sample': D('f') }, layers: { 'team/sample': [D('1'), D('2')] } });
    const task = job.TaskGroups[0]!.Tasks[0]!;
    expect(task.Artifacts).to.deep.equal([
      {
        GetterSource: `http://127.0.0.1:5002/v2/team/sample/blobs/${D('1')}`,
        RelativeDest: 'local/image',
        GetterOptions: { archive: 'tar.gz', checksum: D('1') },
      },
      {
        GetterSource: `http://127.0.0.1:5002/v2/team/sample/blobs/${D('2')}`,
        RelativeDest: 'local/image',
        GetterOptions: { archive: 'tar.gz', checksum: D('2') },
      },
    ]);
    expect(task.Meta).to.deep.equal({ hashiship_image: `127.0.0.1:5002/team/sample@${D('f')}` });
  });

  it('without resolved layers names the tag only (no artifact), and registries off loopback use https', () => {
    const task = renderJob(resolved).TaskGroups[0]!.Tasks[0]!;
    expect(task.Artifacts).to.equal(undefined);
    expect(task.Meta).to.deep.equal({ hashiship_image: '127.0.0.1:5002/team/sample:7' });
    expect(registryUrl('registry.example.com:5000')).to.equal('https://registry.example.com:5000');
    expect(registryUrl('localhost:5000')).to.equal('http://localhost:5000');
  });
});
