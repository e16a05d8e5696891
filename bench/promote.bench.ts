/**
 * The whole promotion flow for one service on the stack, on containers, against its floor.
 *
 * Each round builds a new version of the sample (examples/sample) as a container
 * image (`docker build` of its Dockerfile on the stack's engine, `docker push` to the
 * QA registry; not timed), deploys it to QA with evidence (`deployRelease`; Nomad's
 * docker driver pulls it by digest) and promotes it to production
 * (`promote`: copy by digest, canary, health gate, smoke through Fabio, weight
 * steps 10 % and 50 % held `HOLD_MS` each, promotion, weight rule removed,
 * record). The floor is what the flow must wait anyway, set by the spec and
 * the flags: in QA the new allocation's min_healthy_time; in production the
 * canary's min_healthy_time and the two holds. (A replaced allocation leaves
 * Consul when its shutdown_delay starts, but on this one-node stack Nomad starts
 * QA's replacement only once the allocation it replaces has stopped: QA's overhead
 * holds the sample's shutdown_delay, 2 s. Production's canary runs beside the old
 * allocation and does not wait.)
 * Overhead = wall − floor: registry copy, scheduling, image pull by digest and
 * container start, python start, Consul check intervals (1 s), Fabio's route
 * refresh, KV writes. The first round (first production deployment, without
 * canaries) is setup and not counted. After the last round production's job and
 * its containers are read back from Nomad and the engine: they must run exactly
 * the promoted digest, or the benchmark fails.
 */
import { randomBytes } from 'node:crypto';
import { createClients } from '../src/clients.js';
import { fabioApi } from '../src/fabio/routes.js';
import type { Event } from '../src/log.js';
import { deployRelease } from '../src/release/deploy-image.js';
import { promote } from '../src/release/promotion/flow.js';
import { buildSample, cleanupSample, runningImage, setupSample } from '../test/helpers/sample.js';
import { benchStack, median, size, type Benchmark, type Figure } from './harness.js';

const ROUNDS = size(3, 1);
const HOLD_MS = 1_000;
/** From examples/sample/jobs/services/sample.yaml. */
const MIN_HEALTHY_MS = 2_000;

const bench: Benchmark = {
  name: 'promote',
  async run(): Promise<readonly Figure[]> {
    // The stack of HASHISHIP_CACHE / HASHISHIP_STACK_DIR, like every other benchmark.
    const { config, env } = await benchStack();
    const fabio = fabioApi();
    const clients = createClients(config);
    const sample = await setupSample(config, `bench-${randomBytes(3).toString('hex')}`, undefined, { driver: 'docker', dockerHost: env['DOCKER_HOST']! });
    const qaWall: number[] = [];
    const prodWall: number[] = [];
    const stepTotals = new Map<string, number[]>();
    try {
      for (let round = 0; round <= ROUNDS; round++) {
        const build = String(round + 1);
        await buildSample(sample, build, `v${build}`);
        const t0 = Date.now();
        const qa = await deployRelease(config, {
          environment: 'qa',
          names: [sample.service],
          dirs: sample.dirs,
          overrides: new Map([[sample.service, build]]),
          build,
          fabio,
          clients,
        });
        const t1 = Date.now();
        if (qa.exitCode !== 0) {
          const why = [...qa.deploy.results.map((x) => x.error?.describe() ?? x.message), ...qa.failures.map((f) => f.error.describe())].join('; ');
          throw new Error(`QA deploy of build ${build} exited ${qa.exitCode}: ${why}`);
        }
        const started = new Map<string, number>();
        const steps = new Map<string, number>();
        const log = (e: Event) => {
          if (e.kind !== 'promote.step') return;
          if (e.status === 'start') started.set(e.step, Date.now());
          if (e.status === 'done') steps.set(e.step, Date.now() - (started.get(e.step) ?? Date.now()));
        };
        const r = await promote(config, {
          from: 'qa',
          to: 'production',
          names: [sample.service],
          dirs: sample.dirs,
          build,
          holdMs: HOLD_MS,
          fabio,
          clients,
          log,
        });
        const t2 = Date.now();
        if (r.exitCode !== 0) throw new Error(`promotion of build ${build} exited ${r.exitCode}: ${r.results[0]?.message ?? ''}`);
        if (round === 0) continue; // the first production deployment has no canaries
        qaWall.push(t1 - t0);
        prodWall.push(t2 - t1);
        for (const [k, v] of steps) stepTotals.set(k, [...(stepTotals.get(k) ?? []), v]);
      }
      // Production runs the last promoted digest, by Nomad's job and by the engine's containers.
      const want = `127.0.0.1:5002/${sample.repository}@${sample.digests[String(ROUNDS + 1)]}`;
      const running = await runningImage(config, sample, 'production');
      if (running.driver !== 'docker' || running.image !== want || running.containers.length === 0 || running.containers.some((c) => c.image !== want))
        throw new Error(`production does not run ${want} on docker: ${JSON.stringify(running)}`);
    } finally {
      await cleanupSample(config, sample);
    }
    const qaFloor = MIN_HEALTHY_MS;
    const prodFloor = MIN_HEALTHY_MS + 2 * HOLD_MS;
    const qa = median(qaWall) / 1000;
    const prod = median(prodWall) / 1000;
    const floorName = 'floor';
    const figures: Figure[] = [
      { label: `QA deploy with evidence (median of ${ROUNDS})`, value: qa, unit: 's', peer: { name: floorName, value: qaFloor / 1000 } },
      {
        label: `promotion to production on containers, steps 10/50/100, hold ${HOLD_MS / 1000} s (median of ${ROUNDS})`,
        value: prod,
        unit: 's',
        peer: { name: floorName, value: prodFloor / 1000 },
      },
      { label: 'whole flow QA + production', value: qa + prod, unit: 's', peer: { name: floorName, value: (qaFloor + prodFloor) / 1000 } },
      { label: 'overhead of the whole flow over its floor', value: qa + prod - (qaFloor + prodFloor) / 1000, unit: 's' },
    ];
    for (const [k, v] of stepTotals) figures.push({ label: `  step ${k} (median)`, value: median(v) / 1000, unit: 's' });
    return figures;
  },
};

export default bench;
