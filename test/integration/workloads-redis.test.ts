/**
 * Seed workload: Redis (the cache of the Palisade and Sales Order seeds) as a
 * container. The image is made here from Debian's redis-server and its libraries
 * (scripts/images/redis.sh, no Docker Hub), pushed to the QA registry, and shipped by
 * `hashiship deploy` of a spec on the docker driver (host networking, the spec's
 * `nomad:` escape hatch) with a Consul TCP check; the instance Consul lists answers
 * PING, and the container runs exactly the image's digest.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { docker } from '../helpers/images.js';
import { useStack, type TestStack } from '../helpers/stack.js';
import { containerOf, debianImage, figure, passingInstances, purgeJobs, runningAllocs, SpecDir, withEnv } from '../helpers/workloads.js';

const run = randomBytes(3).toString('hex');
const name = `redis-${run}`;

/** One Redis command over RESP's inline form; the first reply line. */
function redis(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(`${command}\r\n`));
    let data = '';
    s.setTimeout(5000, () => s.destroy(new Error('redis: no answer in 5 s')));
    s.on('data', (d: Buffer) => {
      data += d.toString();
      if (data.includes('\r\n')) {
        s.end();
        resolve(data.slice(0, data.indexOf('\r\n')));
      }
    });
    s.on('error', reject);
  });
}

function redisSpec(service: string, digest: string): string {
  return `name: ${service}
groups:
  - name: cache
    count: 1
    ports:
      redis: {}
    update:
      min_healthy_time: 1s
      healthy_deadline: 60s
      progress_deadline: 90s
    services:
      - port: redis
        tags: [cache]
        checks:
          - type: tcp
            interval: 1s
            timeout: 1s
    tasks:
      - name: redis
        driver: docker
        image:
          repository: hashiship-images/redis
          digest: ${digest}
        args: [--port, "\${NOMAD_PORT_redis}", --maxmemory, 32mb, --maxmemory-policy, allkeys-lru]
        resources:
          cpu: 50
          memory: 64
        nomad:
          Config:
            network_mode: host
`;
}

describe('seed workload: Redis as a container, shipped by hashiship deploy', function () {
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

  it('the image is made from Debian packages here and kept small', async function () {
    this.timeout(600_000);
    const image = await debianImage(host, 'redis');
    figure(
      `redis image ${image.cached ? 'reused' : 'made + built + pushed'} (script ${image.buildSeconds.toFixed(2)} s)`,
      image.buildSeconds + image.pushSeconds,
    );
    const size = Number((await docker(host, ['image', 'inspect', '--format', '{{.Size}}', image.tag])).trim());
    expect(size).to.be.greaterThan(1_000_000).and.lessThan(40_000_000);
  });

  it('deploys by digest, passes its Consul check and answers PING; the container runs that digest', async function () {
    this.timeout(240_000);
    const image = await debianImage(host, 'redis');
    specs.write(name, redisSpec(name, image.digest));
    const r = await specs.deploy(name);
    figure('redis: hashiship deploy', r.seconds);
    expect(r.code, r.out).to.equal(0);
    const [instance] = await passingInstances(name, 1);
    expect(await redis(instance!.port, 'PING')).to.equal('+PONG');
    expect(await redis(instance!.port, `SET k-${run} v`)).to.equal('+OK');
    expect(await redis(instance!.port, `GET k-${run}`)).to.equal('$1');

    const [alloc] = await runningAllocs(stack.config.nomad.address, name);
    const c = await containerOf(host, alloc!.ID);
    expect(c.Config.Image).to.equal(`127.0.0.1:5001/hashiship-images/redis@${image.digest}`);
    expect(c.HostConfig.NetworkMode).to.equal('host');
    expect(c.State.Running).to.equal(true);
  });
});
