/**
 * Three instances of a container service behind Fabio (the hello image, a static Go
 * binary built here), shipped by `hashiship deploy`; one container is killed with
 * `docker kill` while a loop of requests goes through Fabio. Nomad replaces it (a new
 * allocation), Consul and Fabio follow (the dead instance leaves both, the new one
 * joins both), and requests fail only while the dead instance is still routed: the
 * window from the first to the last failed request is at most the check interval
 * (1 s) plus a stated margin of 1 s (Consul's check timeout and Fabio's reload).
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { stackAddresses } from '../../src/stack/components.js';
import { buildAndPushHello, docker } from '../helpers/images.js';
import { viaFabio } from '../helpers/sample.js';
import { useStack, type TestStack } from '../helpers/stack.js';
import { containerOf, eventually, figure, passing, passingInstances, purgeJobs, runningAllocs, sleep, SpecDir, withEnv } from '../helpers/workloads.js';

const run = randomBytes(3).toString('hex');
const name = `scale-${run}`;
const CheckIntervalMs = 1000;
const MarginMs = 1000;

function spec(digest: string): string {
  return `name: ${name}
groups:
  - name: web
    count: 3
    shutdown_delay: 0s
    ports:
      http: {}
    update:
      max_parallel: 3
      min_healthy_time: 1s
      healthy_deadline: 60s
      progress_deadline: 90s
    restart:
      attempts: 0
      interval: 1m
      delay: 1s
      mode: fail
    reschedule:
      attempts: 5
      interval: 10m
      delay: 5s
      delay_function: constant
      unlimited: false
    services:
      - port: http
        checks:
          - type: http
            path: /health
            interval: ${CheckIntervalMs / 1000}s
            timeout: 1s
        routes:
          - host: ${name}.local
    tasks:
      - name: web
        driver: docker
        image:
          repository: hashiship-test/scale-${run}
          digest: ${digest}
        resources:
          cpu: 50
          memory: 32
        nomad:
          Config:
            network_mode: host
`;
}

interface Probe {
  readonly at: number;
  readonly ok: boolean;
}

/** Fabio's routes for a host: the destinations' `host:port`. */
async function fabioTargets(host: string): Promise<string[]> {
  const routes = (await (await fetch(`${stackAddresses.fabioApi}/api/routes`)).json()) as { host: string; dst: string }[];
  return routes
    .filter((r) => r.host === host)
    .map((r) => r.dst.replace(/^https?:\/\//, '').replace(/\/$/, ''))
    .sort();
}

describe('three containers behind Fabio, one killed: Nomad replaces it, Consul and Fabio follow', function () {
  let stack: TestStack;
  let host: string;
  let restore: () => void = () => undefined;
  const specs = new SpecDir(`wl-${run}`);

  before(async function () {
    this.timeout(90 * 60_000);
    stack = await useStack();
    host = stack.env['DOCKER_HOST']!;
    restore = withEnv(stack.env);
  });

  after(async function () {
    this.timeout(60_000);
    restore();
    if (stack !== undefined) await purgeJobs(stack.config.nomad.address, name);
    specs.remove();
  });

  it('requests through Fabio fail no longer than the check interval (+1 s margin) while one instance is replaced', async function () {
    this.timeout(300_000);
    const image = await buildAndPushHello(host, '127.0.0.1:5001', `hashiship-test/scale-${run}`, '1', `v1-${run}`);
    specs.write(name, spec(image.digest));
    const r = await specs.deploy(name);
    figure('scale: hashiship deploy of 3 containers', r.seconds);
    expect(r.code, r.out).to.equal(0);
    const before = await passingInstances(name, 3);
    const fabioHost = `${name}.local`;
    await eventually('3 routes in Fabio', 30_000, async () => ((await fabioTargets(fabioHost)).length === 3 ? true : undefined));
    const allocs = await runningAllocs(stack.config.nomad.address, name);
    expect(allocs).to.have.length(3);

    // The loop: one request at a time through Fabio, each recorded.
    const probes: Probe[] = [];
    let looping = true;
    const loop = (async () => {
      while (looping) {
        const ok = await viaFabio(fabioHost, '/').then(
          (res) => res.status === 200 && res.body.startsWith('hello '),
          () => false,
        );
        probes.push({ at: Date.now(), ok });
        await sleep(10);
      }
    })();
    await sleep(1000);

    const victim = allocs[0]!;
    const container = await containerOf(host, victim.ID);
    const killedAt = Date.now();
    await docker(host, ['kill', container.Id]);

    // Nomad replaces it: a new allocation running, the killed one failed.
    const replacement = await eventually('a replacement allocation', 120_000, async () => {
      const now = await runningAllocs(stack.config.nomad.address, name);
      const fresh = now.filter((a) => !allocs.some((o) => o.ID === a.ID));
      return now.length === 3 && fresh.length === 1 ? fresh[0]! : undefined;
    });
    const replacedAt = Date.now();
    // Consul and Fabio follow: three passing instances again, the same three routed.
    const after = await passingInstances(name, 3);
    const targets = await eventually('Fabio routing to the three passing instances', 30_000, async () => {
      const t = await fabioTargets(fabioHost);
      const want = after.map((i) => `${i.address}:${i.port}`).sort();
      return JSON.stringify(t) === JSON.stringify(want) ? t : undefined;
    });
    const followedAt = Date.now();
    await sleep(1000);
    looping = false;
    await loop;

    const victimStatus = (await (await fetch(`${stack.config.nomad.address}/v1/allocation/${victim.ID}`)).json()) as { ClientStatus: string };
    expect(victimStatus.ClientStatus).to.equal('failed');
    expect(replacement.ID).not.to.equal(victim.ID);
    expect(after.map((i) => i.id)).not.to.have.members(before.map((i) => i.id));
    expect(targets).to.have.length(3);
    expect((await passing(name)).length).to.equal(3);

    // The figures: the window in which requests failed, and the longest run of failures in a row.
    const failed = probes.filter((p) => !p.ok);
    const window = failed.length === 0 ? 0 : failed[failed.length - 1]!.at - failed[0]!.at;
    let longest = 0;
    let start: number | undefined;
    for (const p of probes) {
      if (!p.ok) start ??= p.at;
      else if (start !== undefined) {
        longest = Math.max(longest, p.at - start);
        start = undefined;
      }
    }
    process.stderr.write(
      `      [figure] scale: ${probes.length} requests, ${failed.length} failed; failures from kill+${failed.length === 0 ? '-' : failed[0]!.at - killedAt} ms ` +
        `over a window of ${window} ms; longest failing run ${longest} ms; replacement running after ${replacedAt - killedAt} ms, ` +
        `Consul+Fabio on 3 after ${followedAt - killedAt} ms\n`,
    );
    expect(probes.length).to.be.greaterThan(50);
    expect(window, `failures spread over ${window} ms`).to.be.at.most(CheckIntervalMs + MarginMs);
    expect(longest).to.be.at.most(CheckIntervalMs + MarginMs);
    expect(probes.slice(-5).every((p) => p.ok)).to.equal(true);
  });
});
