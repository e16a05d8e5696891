/**
 * Seed workload: a MySQL-compatible singleton (Debian's MariaDB, image made here by
 * scripts/images/mariadb.sh) on a Nomad host volume (a dynamic host volume made by
 * Nomad's `mkdir` plugin), shipped by `hashiship deploy`. A row written before each
 * of a job update (a new allocation), a restart (the same allocation, a new
 * container) and a reschedule (the allocation stopped, a replacement placed) is still
 * there after it, read through a new connection to the new mariadbd.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { docker } from '../helpers/images.js';
import { useStack, type TestStack } from '../helpers/stack.js';
import { containerOf, debianImage, eventually, figure, passing, purgeJobs, runningAllocs, SpecDir, withEnv, type Alloc } from '../helpers/workloads.js';

const run = randomBytes(3).toString('hex');
const name = `mariadb-${run}`;
const volume = `mariadb-data-${run}`;

function mariadbSpec(digest: string, generation: number): string {
  return `name: ${name}
groups:
  - name: db
    count: 1
    shutdown_delay: 0s
    ports:
      db: {}
    volumes:
      data:
        type: host
        source: ${volume}
    update:
      min_healthy_time: 1s
      healthy_deadline: 120s
      progress_deadline: 180s
      auto_revert: false
    services:
      - port: db
        tags: [db, primary]
        checks:
          - type: tcp
            interval: 1s
            timeout: 1s
    tasks:
      - name: mariadb
        driver: docker
        image:
          repository: hashiship-images/mariadb
          digest: ${digest}
        env:
          MARIADB_PORT: "\${NOMAD_PORT_db}"
          GENERATION: "${generation}"
        mounts:
          - volume: data
            destination: /var/lib/mysql
        kill_timeout: 20s
        resources:
          cpu: 100
          memory: 256
        nomad:
          Config:
            network_mode: host
`;
}

describe('seed workload: a MariaDB singleton on a host volume keeps its data', function () {
  let stack: TestStack;
  let host: string;
  let nomad: string;
  let digest: string;
  let volumeId: string | undefined;
  let restore: () => void = () => undefined;
  const specs = new SpecDir(`wl-${run}`);

  /** SQL through the mariadb client inside the container of the job's running allocation. */
  async function sql(alloc: Alloc, port: number, query: string): Promise<string> {
    const c = await containerOf(host, alloc.ID);
    return (await docker(host, ['exec', c.Id, 'mariadb', '-uapp', '-h127.0.0.1', `-P${port}`, '--batch', '--skip-column-names', '-e', query])).trim();
  }

  /**
   * The one running allocation and its port, once Consul has a passing instance of that
   * allocation (Nomad's service IDs carry the allocation ID): never the port of an
   * instance on its way out.
   */
  function current(): Promise<{ alloc: Alloc; port: number }> {
    return eventually('one running allocation with a passing instance', 120_000, async () => {
      const allocs = await runningAllocs(nomad, name);
      if (allocs.length !== 1) return undefined;
      const instance = (await passing(name)).find((i) => i.id.includes(allocs[0]!.ID));
      return instance === undefined ? undefined : { alloc: allocs[0]!, port: instance.port };
    });
  }

  /** Rows of the test table, retried while mariadbd is still starting. */
  function rows(alloc: Alloc, port: number): Promise<string> {
    return eventually('an answer from mariadbd', 60_000, () => sql(alloc, port, `SELECT GROUP_CONCAT(v ORDER BY v) FROM seed.notes`));
  }

  before(async function () {
    this.timeout(90 * 60_000);
    stack = await useStack();
    host = stack.env['DOCKER_HOST']!;
    nomad = stack.config.nomad.address;
    restore = withEnv(stack.env);
    const t0 = Date.now();
    const image = await debianImage(host, 'mariadb');
    figure(`mariadb image ${image.cached ? 'reused' : 'made + built + pushed'}`, (Date.now() - t0) / 1000);
    digest = image.digest;
    const res = await fetch(`${nomad}/v1/volume/host/create`, {
      method: 'PUT',
      body: JSON.stringify({
        Volume: {
          Name: volume,
          Namespace: 'default',
          PluginID: 'mkdir',
          RequestedCapabilities: [{ AttachmentMode: 'file-system', AccessMode: 'single-node-writer' }],
        },
      }),
    });
    expect(res.status, await res.clone().text()).to.equal(200);
    volumeId = ((await res.json()) as { Volume: { ID: string } }).Volume.ID;
    // Created "pending": the client makes the folder, then the scheduler can place on it.
    await eventually('the host volume ready', 60_000, async () => {
      const v = (await (await fetch(`${nomad}/v1/volume/host/${volumeId}?namespace=default`)).json()) as { State: string; HostPath: string };
      return v.State === 'ready' ? v : undefined;
    });
  });

  after(async function () {
    this.timeout(120_000);
    restore();
    if (stack !== undefined) {
      await purgeJobs(nomad, name);
      if (volumeId !== undefined) {
        // The claim goes with the job; the volume is deleted once it is released.
        await eventually('the volume deleted', 60_000, async () => {
          const r = await fetch(`${nomad}/v1/volume/host/${volumeId}?namespace=default`, { method: 'DELETE' });
          return r.ok ? true : undefined;
        }).catch(() => undefined);
      }
    }
    specs.remove();
  });

  it('deploys on its host volume and takes a first row', async function () {
    this.timeout(300_000);
    specs.write(name, mariadbSpec(digest, 1));
    const r = await specs.deploy(name);
    figure('mariadb: first deploy (empty volume: system tables created)', r.seconds);
    expect(r.code, r.out).to.equal(0);
    const { alloc, port } = await current();
    await eventually('mariadbd accepting the app user', 60_000, () =>
      sql(alloc, port, 'CREATE DATABASE IF NOT EXISTS seed; CREATE TABLE IF NOT EXISTS seed.notes (v VARCHAR(32) PRIMARY KEY) ENGINE=InnoDB'),
    );
    await sql(alloc, port, `INSERT INTO seed.notes VALUES ('1-first')`);
    expect(await rows(alloc, port)).to.equal('1-first');
  });

  it('a job update (new allocation) keeps the data', async function () {
    this.timeout(300_000);
    const before = await current();
    specs.write(name, mariadbSpec(digest, 2));
    const r = await specs.deploy(name);
    figure('mariadb: job update', r.seconds);
    expect(r.code, r.out).to.equal(0);
    const after = await eventually('the new allocation running', 120_000, async () => {
      const c = await current();
      return c.alloc.ID !== before.alloc.ID && c.alloc.JobVersion === 1 ? c : undefined;
    });
    expect(await rows(after.alloc, after.port)).to.equal('1-first');
    await sql(after.alloc, after.port, `INSERT INTO seed.notes VALUES ('2-after-update')`);
  });

  it('a restart (same allocation, new container) keeps the data', async function () {
    this.timeout(300_000);
    const { alloc, port } = await current();
    const old = await containerOf(host, alloc.ID);
    const t0 = Date.now();
    const res = await fetch(`${nomad}/v1/client/allocation/${alloc.ID}/restart`, { method: 'PUT', body: '{}' });
    expect(res.status, await res.clone().text()).to.equal(200);
    const fresh = await eventually('a new container for the allocation', 120_000, async () => {
      const c = await containerOf(host, alloc.ID);
      return c.Id !== old.Id || c.State.StartedAt !== old.State.StartedAt ? c : undefined;
    });
    expect(fresh.Config.Image).to.equal(old.Config.Image);
    expect(await rows(alloc, port)).to.equal('1-first,2-after-update');
    figure('mariadb: restart until the data reads back', (Date.now() - t0) / 1000);
    await sql(alloc, port, `INSERT INTO seed.notes VALUES ('3-after-restart')`);
  });

  it('a reschedule (allocation stopped, replacement placed) keeps the data', async function () {
    this.timeout(300_000);
    const before = await current();
    const t0 = Date.now();
    const res = await fetch(`${nomad}/v1/allocation/${before.alloc.ID}/stop`, { method: 'POST', body: '{}' });
    expect(res.status, await res.clone().text()).to.equal(200);
    const after = await eventually('the replacement allocation running', 180_000, async () => {
      const c = await current();
      return c.alloc.ID !== before.alloc.ID ? c : undefined;
    });
    expect(await rows(after.alloc, after.port)).to.equal('1-first,2-after-update,3-after-restart');
    figure('mariadb: reschedule until the data reads back', (Date.now() - t0) / 1000);
  });
});
