/**
 * `hashiship dev cluster`: a real 3-server, 2-client Consul + Nomad cluster on
 * loopback addresses, brought up once for the file. Guards: a leader is elected from
 * the generated (static-join) configs; jobs spread over both clients; losing the
 * leader keeps the cluster serving and deploying; a restarted server rejoins Raft; a
 * dead client's allocations move to the other client.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  clusterDown,
  clusterEnv,
  clusterStatus,
  clusterUp,
  getJson,
  nodeAddresses,
  startNode,
  stopNode,
  type ClusterNode,
  type ClusterOptions,
} from '../../src/devcluster/cluster.js';
import { run } from '../../src/stack/proc.js';
import { testStackOptions } from '../helpers/stack.js';
import { sleeperJob } from '../helpers/runbook.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` until it returns a value other than undefined, or fail after `ms`. */
async function eventually<T>(what: string, ms: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
    await sleep(250);
  }
}

interface Alloc {
  readonly ID: string;
  readonly NodeName: string;
  readonly ClientStatus: string;
  readonly DesiredStatus: string;
}

describe('dev cluster: 3 servers and 2 clients on loopback (real Consul and Nomad)', function () {
  this.timeout(120_000);
  let opts: ClusterOptions;
  let nodes: readonly ClusterNode[];
  let dir: string;
  let nomadBin: string;
  let killed: ClusterNode | undefined;

  const addr = (name: string) => nodeAddresses(nodes.find((n) => n.name === name)!);
  const servers = () => nodes.filter((n) => n.role === 'server');
  const allocs = async (via: string, job: string) => (await getJson(`${via}/v1/job/${job}/allocations`)) as Alloc[] | undefined;

  async function deploy(via: string, name: string, count: number): Promise<void> {
    const file = join(dir, `${name}.nomad.hcl`);
    writeFileSync(file, sleeperJob(name, count));
    const r = await run(nomadBin, ['job', 'run', '-detach', file], { env: { ...process.env, NOMAD_ADDR: via }, timeoutMs: 30_000 });
    expect(r.code, r.stderr + r.stdout).to.equal(0);
  }

  async function running(via: string, job: string, count: number): Promise<Alloc[]> {
    return eventually(`${count} running allocations of ${job}`, 60_000, async () => {
      const a = (await allocs(via, job))?.filter((x) => x.ClientStatus === 'running' && x.DesiredStatus === 'run');
      return a !== undefined && a.length === count ? a : undefined;
    });
  }

  before(async function () {
    this.timeout(180_000);
    dir = mkdtempSync(join(tmpdir(), 'hashiship-cluster-'));
    opts = { cacheDir: testStackOptions().cacheDir, stateDir: dir, servers: 3, clients: 2, timeoutMs: 90_000 };
    const r = await clusterUp(opts);
    nodes = r.nodes;
    const binDirs = clusterEnv(opts)['HASHISHIP_CLUSTER_BIN']!.split(':');
    const nomadDir = binDirs.find((d) => d.includes('nomad'))!;
    nomadBin = join(nomadDir, 'nomad');
  });

  after(async function () {
    this.timeout(60_000);
    if (opts !== undefined) await clusterDown(opts);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('elects one Consul and one Nomad leader that every server agrees on, with 3 Raft peers', async function () {
    for (const agent of ['consul', 'nomad'] as const) {
      const leaders = await eventually(`one ${agent} leader`, 30_000, async () => {
        const ls = await Promise.all(servers().map((s) => getJson(`${nodeAddresses(s)[agent]}/v1/status/leader`)));
        return ls.every((l) => typeof l === 'string' && l !== '' && l === ls[0]) ? ls : undefined;
      });
      expect(String(leaders[0])).to.match(/^127\.0\.0\.1[1-3]:(8300|4647)$/);
      const peers = (await getJson(`${addr('server-1')[agent]}/v1/status/peers`)) as string[];
      expect(peers).to.have.length(3);
    }
    // Nothing of the cluster binds the dev stack's 127.0.0.1.
    expect(clusterStatus(opts).every((s) => s.running && !s.address.includes('127.0.0.1:'))).to.equal(true);
  });

  it('places a job across both clients', async function () {
    await deploy(addr('server-1').nomad, 'spread', 2);
    const a = await running(addr('server-1').nomad, 'spread', 2);
    expect(a.map((x) => x.NodeName).sort()).to.deep.equal(['client-1', 'client-2']);
  });

  it('keeps serving and accepts a deploy after the Nomad leader server is killed', async function () {
    const leader = String(await getJson(`${addr('server-1').nomad}/v1/status/leader`));
    killed = servers().find((s) => leader.startsWith(`${s.address}:`));
    expect(killed, `leader ${leader}`).to.not.equal(undefined);
    await stopNode(opts, killed!.name, true);
    const survivor = servers().find((s) => s !== killed)!;
    const via = nodeAddresses(survivor);
    const newLeader = await eventually('a new Nomad leader', 60_000, async () => {
      const l = await getJson(`${via.nomad}/v1/status/leader`);
      return typeof l === 'string' && l !== '' && l !== leader ? l : undefined;
    });
    expect(newLeader).to.not.equal(leader);
    await eventually('a Consul leader', 60_000, async () => {
      const l = await getJson(`${via.consul}/v1/status/leader`);
      return typeof l === 'string' && l !== '' && !l.startsWith(`${killed!.address}:`) ? l : undefined;
    });
    // Consul still writes (needs a Raft quorum) …
    const put = await fetch(`${via.consul}/v1/kv/hashiship/cluster-test`, { method: 'PUT', body: 'after-loss' });
    expect(put.status).to.equal(200);
    // … and Nomad accepts and places a new job.
    await deploy(via.nomad, 'after-loss', 1);
    await running(via.nomad, 'after-loss', 1);
  });

  it('lets the killed server rejoin as a Raft voter when restarted', async function () {
    expect(killed).to.not.equal(undefined);
    await startNode(opts, killed!.name);
    const via = nodeAddresses(servers().find((s) => s !== killed)!);
    for (const [agent, id] of [
      ['nomad', `${killed!.name}.global`],
      ['consul', killed!.name],
    ] as const) {
      await eventually(`${killed!.name} a ${agent} voter`, 60_000, async () => {
        const c = (await getJson(`${via[agent]}/v1/operator/raft/configuration`)) as { Servers?: { Node: string; Voter: boolean }[] } | undefined;
        return c?.Servers?.some((s) => s.Node === id && s.Voter) === true && c.Servers.length === 3 ? true : undefined;
      });
    }
    const peers = (await getJson(`${nodeAddresses(killed!).nomad}/v1/status/peers`)) as string[];
    expect(peers).to.include(`${killed!.address}:4647`);
  });

  it("reschedules a killed client's allocations on the other client", async function () {
    const via = addr('server-1').nomad;
    const before = await running(via, 'spread', 2);
    const onOne = before.filter((a) => a.NodeName === 'client-1');
    expect(onOne).to.have.length(1);
    await stopNode(opts, 'client-1', true);
    const after = await eventually('both spread allocations on client-2', 60_000, async () => {
      const a = (await allocs(via, 'spread'))?.filter((x) => x.ClientStatus === 'running' && x.DesiredStatus === 'run');
      return a !== undefined && a.length === 2 && a.every((x) => x.NodeName === 'client-2') ? a : undefined;
    });
    expect(after.map((a) => a.ID)).to.not.include(onOne[0]!.ID);
    const lost = (await allocs(via, 'spread'))!.find((a) => a.ID === onOne[0]!.ID)!;
    expect(lost.ClientStatus).to.equal('lost');
  });
});
