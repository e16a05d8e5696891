/**
 * docs/runbooks: every ```bash block of each page runs, as written, against a real
 * 3-server, 2-client dev cluster (brought up once for the file), through the real
 * `hashiship` CLI, `consul` and `nomad`. Each block runs after the page's first block
 * (variables and helpers) under `set -euo pipefail`; the test then checks the
 * cluster itself, so a runbook that "succeeds" without doing its job fails here.
 */
import { expect } from 'chai';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { clusterDown, clusterEnv, clusterUp, getJson, stopNode, type ClusterOptions } from '../../src/stack/cluster.js';
import { run, type RunResult } from '../../src/stack/proc.js';
import { testStackOptions } from '../helpers/stack.js';

const repo = resolve('.');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually<T>(what: string, ms: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** The ```bash blocks of a runbook page, in order. */
function blocks(page: string): string[] {
  const text = readFileSync(join(repo, 'docs', 'runbooks', page), 'utf8');
  return [...text.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

interface Alloc {
  readonly ID: string;
  readonly NodeName: string;
  readonly ClientStatus: string;
  readonly DesiredStatus: string;
}

describe('runbooks (docs/runbooks) against a real dev cluster', function () {
  this.timeout(120_000);
  let opts: ClusterOptions;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let nomadAddr: string;
  let consulAddr: string;

  /** Run block `i` of `page` after its first block; fails with the output on a non-zero exit. */
  async function step(page: string, i: number, extra: Record<string, string> = {}): Promise<RunResult> {
    const b = blocks(page);
    expect(b.length, `${page} blocks`).to.be.greaterThan(i);
    const script = `set -euo pipefail\n${b[0]!}\n${i === 0 ? '' : b[i]!}`;
    const r = await run('bash', ['-c', script], { env: { ...env, ...extra }, cwd: dir, timeoutMs: 110_000 });
    expect(r.code, `${page} block ${i}:\n${r.stdout}\n${r.stderr}`).to.equal(0);
    return r;
  }

  async function nomad(args: string[]): Promise<RunResult> {
    const r = await run('bash', ['-c', 'eval "$(hashiship dev cluster env)" && nomad "$@"', 'nomad', ...args], { env, cwd: dir, timeoutMs: 60_000 });
    expect(r.code, `nomad ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`).to.equal(0);
    return r;
  }

  async function runJob(name: string, count: number, seconds = 3600): Promise<void> {
    const file = join(dir, `${name}.nomad.hcl`);
    writeFileSync(
      file,
      `job "${name}" {
  datacenters = ["dc1"]

  group "g" {
    count = ${count}

    spread {
      attribute = "\${node.unique.name}"
    }

    task "sleep" {
      driver = "raw_exec"

      config {
        command = "/bin/sleep"
        args    = ["${seconds}"]
      }

      resources {
        cpu    = 20
        memory = 16
      }
    }
  }
}
`,
    );
    await nomad(['job', 'run', '-detach', file]);
  }

  const running = async (job: string) =>
    ((await getJson(`${nomadAddr}/v1/job/${job}/allocations`)) as Alloc[] | undefined)?.filter((a) => a.ClientStatus === 'running' && a.DesiredStatus === 'run') ?? [];

  before(async function () {
    this.timeout(180_000);
    dir = mkdtempSync(join(tmpdir(), 'hashiship-runbook-'));
    opts = { cacheDir: testStackOptions().cacheDir, stateDir: join(dir, 'cluster'), servers: 3, clients: 2 };
    await clusterUp(opts);
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'hashiship'), `#!/bin/sh\nexec ${join(repo, 'node_modules', '.bin', 'tsx')} ${join(repo, 'src', 'cli.ts')} "$@"\n`);
    chmodSync(join(bin, 'hashiship'), 0o755);
    env = { ...process.env, HASHISHIP_CLUSTER_DIR: opts.stateDir!, PATH: `${bin}:${process.env['PATH'] ?? ''}` };
    const e = clusterEnv(opts);
    nomadAddr = e['NOMAD_ADDR']!;
    consulAddr = e['CONSUL_HTTP_ADDR']!;
  });

  after(async function () {
    this.timeout(60_000);
    if (opts !== undefined) await clusterDown(opts);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('worker.md: drain and remove client-2 (its allocations move to client-1), then add it back ready and eligible', async function () {
    await runJob('web', 2);
    await eventually('web on both clients', 60_000, async () => {
      const a = await running('web');
      return a.length === 2 && new Set(a.map((x) => x.NodeName)).size === 2 ? a : undefined;
    });
    await step('worker.md', 1, { NODE: 'client-2' });
    const a = await running('web');
    expect(a.map((x) => x.NodeName)).to.deep.equal(['client-1', 'client-1']);
    const nodes = (await getJson(`${nomadAddr}/v1/nodes`)) as { Name: string }[];
    expect(nodes.map((n) => n.Name)).to.not.include('client-2');
    const members = (await getJson(`${consulAddr}/v1/agent/members`)) as { Name: string }[];
    expect(members.map((m) => m.Name)).to.not.include('client-2');

    await step('worker.md', 2, { NODE: 'client-2' });
    const back = (await getJson(`${nomadAddr}/v1/nodes`)) as { Name: string; Status: string; SchedulingEligibility: string }[];
    expect(back.find((n) => n.Name === 'client-2')).to.include({ Status: 'ready', SchedulingEligibility: 'eligible' });
  });

  it('snapshot.md: a restore brings back the Consul key and the Nomad job as they were at the save', async function () {
    const backup = join(dir, 'backup');
    const kv = `${consulAddr}/v1/kv/hashiship/runbook`;
    expect((await fetch(kv, { method: 'PUT', body: 'before' })).status).to.equal(200);
    await runJob('snapjob', 1);
    await step('snapshot.md', 1, { BACKUP: backup });

    expect((await fetch(kv, { method: 'PUT', body: 'after' })).status).to.equal(200);
    await nomad(['job', 'stop', '-purge', '-detach', 'snapjob']);
    expect((await fetch(`${nomadAddr}/v1/job/snapjob`)).status).to.equal(404);

    await step('snapshot.md', 2, { BACKUP: backup });
    const value = await eventually('restored key', 30_000, async () => {
      const r = await fetch(`${kv}?raw`);
      return r.ok ? r.text() : undefined;
    });
    expect(value).to.equal('before');
    const job = await eventually('restored job', 30_000, async () => (await getJson(`${nomadAddr}/v1/job/snapjob`)) as { ID: string; Stop: boolean } | undefined);
    expect(job).to.include({ ID: 'snapjob', Stop: false });
  });

  it('rollback.md: reverts the job to the previous version (its task arguments come back)', async function () {
    await runJob('web', 2, 3601); // version 1 of web (version 0 ran 3600)
    const args = async () => ((await getJson(`${nomadAddr}/v1/job/web`)) as { Version: number; TaskGroups: { Tasks: { Config: { args: string[] } }[] }[] });
    expect((await args()).TaskGroups[0]!.Tasks[0]!.Config.args).to.deep.equal(['3601']);
    await step('rollback.md', 1, { JOB: 'web' });
    const after = await args();
    expect(after.Version).to.equal(2);
    expect(after.TaskGroups[0]!.Tasks[0]!.Config.args).to.deep.equal(['3600']);
  });

  it('gossip.md: after the rotation every Consul member and Nomad server holds only the new key, and gossip still works', async function () {
    const state = JSON.parse(readFileSync(join(opts.stateDir!, 'cluster.json'), 'utf8')) as { gossipKey: string };
    await step('gossip.md', 1, { OLD: state.gossipKey });
    const rings = (await getJson(`${consulAddr}/v1/operator/keyring`)) as { Keys: Record<string, number>; NumNodes: number }[];
    for (const r of rings) {
      expect(Object.keys(r.Keys)).to.have.length(1);
      expect(Object.keys(r.Keys)[0]).to.not.equal(state.gossipKey);
      expect(Object.values(r.Keys)[0]).to.equal(r.NumNodes);
    }
    const nomadRing = (await getJson(`${nomadAddr}/v1/agent/keyring/list`)) as { Keys: Record<string, number> };
    expect(Object.keys(nomadRing.Keys)).to.deep.equal(Object.keys(rings[0]!.Keys));
    const members = (await getJson(`${consulAddr}/v1/agent/members`)) as { Status: number }[];
    expect(members.filter((m) => m.Status === 1)).to.have.length(5);
  });

  it('lost-server.md: with server-3 killed a quorum remains; restarted, it is an alive voter again', async function () {
    await stopNode(opts, 'server-3', true);
    await eventually('a leader without server-3', 60_000, async () => {
      const l = await getJson(`${nomadAddr}/v1/status/leader`);
      return typeof l === 'string' && l !== '' && !l.startsWith('127.0.0.13:') ? l : undefined;
    });
    await eventually('server-3 failed in Nomad\'s gossip', 60_000, async () => {
      const m = (await getJson(`${nomadAddr}/v1/agent/members`)) as { Members: { Name: string; Status: string }[] } | undefined;
      return m?.Members.some((x) => x.Name === 'server-3.global' && x.Status !== 'alive') === true ? true : undefined;
    });
    const quorum = await step('lost-server.md', 1, { SERVER: 'server-3' });
    expect(quorum.stdout).to.match(/server-3\.global\s+127\.0\.0\.13\s+4648\s+(failed|left)/);
    await step('lost-server.md', 2, { SERVER: 'server-3' });
    const c = (await getJson(`${nomadAddr}/v1/operator/raft/configuration`)) as { Servers: { Node: string; Voter: boolean }[] };
    expect(c.Servers.filter((s) => s.Voter).map((s) => s.Node).sort()).to.deep.equal(['server-1.global', 'server-2.global', 'server-3.global']);
  });
});
