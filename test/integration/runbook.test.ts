/**
 * docs/runbooks: every ```bash block of each page runs, as written, against a real
 * 3-server, 2-client dev cluster and a real non-dev Vault server (brought up once for
 * the file), through the real `hashiship` CLI, `consul`, `nomad` and `vault`. Each
 * block runs after the page's first block (variables and helpers) under
 * `set -euo pipefail`; the test then checks the cluster itself, so a runbook that
 * "succeeds" without doing its job fails here. (acl.md needs a cluster with ACLs on:
 * runbook-acl.test.ts.)
 */
import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devVault, devVaultDown, devVaultUp } from '../../src/devcluster/vault.js';
import { clusterDown, clusterEnv, clusterUp, getJson, stopNode, type ClusterOptions } from '../../src/devcluster/cluster.js';
import { run, type RunResult } from '../../src/stack/proc.js';
import { eventually, hashishipPath, runBlock, sleeperJob } from '../helpers/runbook.js';
import { testStackOptions } from '../helpers/stack.js';

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
  const step = (page: string, i: number, extra: Record<string, string> = {}): Promise<RunResult> => runBlock(page, i, { ...env, ...extra }, dir);

  async function nomad(args: string[]): Promise<RunResult> {
    const r = await run('bash', ['-c', 'eval "$(hashiship dev cluster env)" && nomad "$@"', 'nomad', ...args], { env, cwd: dir, timeoutMs: 60_000 });
    expect(r.code, `nomad ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`).to.equal(0);
    return r;
  }

  async function runJob(name: string, count: number, seconds = 3600): Promise<void> {
    const file = join(dir, `${name}.nomad.hcl`);
    writeFileSync(file, sleeperJob(name, count, seconds));
    await nomad(['job', 'run', '-detach', file]);
  }

  const running = async (job: string) =>
    ((await getJson(`${nomadAddr}/v1/job/${job}/allocations`)) as Alloc[] | undefined)?.filter(
      (a) => a.ClientStatus === 'running' && a.DesiredStatus === 'run',
    ) ?? [];

  before(async function () {
    this.timeout(180_000);
    dir = mkdtempSync(join(tmpdir(), 'hashiship-runbook-'));
    opts = { cacheDir: testStackOptions().cacheDir, stateDir: join(dir, 'cluster'), servers: 3, clients: 2 };
    await Promise.all([clusterUp(opts), devVaultUp(opts)]);
    env = { ...process.env, HASHISHIP_CLUSTER_DIR: opts.stateDir!, PATH: hashishipPath(dir) };
    const e = clusterEnv(opts);
    nomadAddr = e['NOMAD_ADDR']!;
    consulAddr = e['CONSUL_HTTP_ADDR']!;
  });

  after(async function () {
    this.timeout(60_000);
    if (opts !== undefined) await Promise.all([clusterDown(opts), devVaultDown(opts)]);
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
    const job = await eventually(
      'restored job',
      30_000,
      async () => (await getJson(`${nomadAddr}/v1/job/snapjob`)) as { ID: string; Stop: boolean } | undefined,
    );
    expect(job).to.include({ ID: 'snapjob', Stop: false });
  });

  it('rollback.md: reverts the job to the previous version (its task arguments come back)', async function () {
    await runJob('web', 2, 3601); // version 1 of web (version 0 ran 3600)
    const args = async () => (await getJson(`${nomadAddr}/v1/job/web`)) as { Version: number; TaskGroups: { Tasks: { Config: { args: string[] } }[] }[] };
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
    // Recorded for machines that boot later (lost-server.md §3 starts one from empty data).
    const recorded = JSON.parse(readFileSync(join(opts.stateDir!, 'cluster.json'), 'utf8')) as { gossipKey: string };
    expect(recorded.gossipKey).to.equal(Object.keys(rings[0]!.Keys)[0]);
  });

  it('lost-server.md: with server-3 killed a quorum remains; restarted, it is an alive voter again', async function () {
    await stopNode(opts, 'server-3', true);
    await eventually('a leader without server-3', 60_000, async () => {
      const l = await getJson(`${nomadAddr}/v1/status/leader`);
      return typeof l === 'string' && l !== '' && !l.startsWith('127.0.0.13:') ? l : undefined;
    });
    await eventually("server-3 failed in Nomad's gossip", 60_000, async () => {
      const m = (await getJson(`${nomadAddr}/v1/agent/members`)) as { Members: { Name: string; Status: string }[] } | undefined;
      return m?.Members.some((x) => x.Name === 'server-3.global' && x.Status !== 'alive') === true ? true : undefined;
    });
    const quorum = await step('lost-server.md', 1, { SERVER: 'server-3' });
    expect(quorum.stdout).to.match(/server-3\.global\s+127\.0\.0\.13\s+4648\s+(failed|left)/);
    await step('lost-server.md', 2, { SERVER: 'server-3' });
    const c = (await getJson(`${nomadAddr}/v1/operator/raft/configuration`)) as { Servers: { Node: string; Voter: boolean }[] };
    expect(
      c.Servers.filter((s) => s.Voter)
        .map((s) => s.Node)
        .sort(),
    ).to.deep.equal(['server-1.global', 'server-2.global', 'server-3.global']);
  });

  it('lost-server.md §3: server-3 lost with its disk is removed, replaced by a new node (new IDs) and is a voter again', async function () {
    this.timeout(180_000);
    const ids = async () => {
      const c = (await getJson(`${consulAddr}/v1/operator/raft/configuration`)) as { Servers: { Node: string; ID: string; Voter: boolean }[] };
      const n = (await getJson(`${nomadAddr}/v1/operator/raft/configuration`)) as { Servers: { Node: string; ID: string; Voter: boolean }[] };
      return { consul: c.Servers, nomad: n.Servers };
    };
    await runJob('survivor', 1);
    expect((await fetch(`${consulAddr}/v1/kv/hashiship/survivor`, { method: 'PUT', body: 'kept' })).status).to.equal(200);
    const before = await ids();
    const oldConsul = before.consul.find((x) => x.Node === 'server-3')!.ID;
    const oldNomad = before.nomad.find((x) => x.Node === 'server-3.global')!.ID;
    await step('lost-server.md', 3, { SERVER: 'server-3' });
    const after = await ids();
    expect(
      after.consul
        .filter((x) => x.Voter)
        .map((x) => x.Node)
        .sort(),
    ).to.deep.equal(['server-1', 'server-2', 'server-3']);
    expect(
      after.nomad
        .filter((x) => x.Voter)
        .map((x) => x.Node)
        .sort(),
    ).to.deep.equal(['server-1.global', 'server-2.global', 'server-3.global']);
    expect(after.consul.find((x) => x.Node === 'server-3')!.ID, 'a new Consul server, not the old one back').to.not.equal(oldConsul);
    expect(after.nomad.find((x) => x.Node === 'server-3.global')!.ID, 'a new Nomad server').to.not.equal(oldNomad);
    // The replacement has the state in its own store (stale reads are answered locally).
    const job = await eventually(
      'the job in the new Nomad server',
      30_000,
      async () => (await getJson('http://127.0.0.13:4646/v1/job/survivor?stale=true')) as { ID: string } | undefined,
    );
    expect(job.ID).to.equal('survivor');
    const kv = await eventually('the key in the new Consul server', 30_000, async () => {
      const r = await fetch('http://127.0.0.13:8500/v1/kv/hashiship/survivor?raw&stale');
      return r.ok ? r.text() : undefined;
    });
    expect(kv).to.equal('kept');
  });

  interface SealStatus {
    readonly initialized: boolean;
    readonly sealed: boolean;
    readonly t: number;
    readonly n: number;
    readonly progress: number;
  }
  const vault = (path: string, token: string | undefined, method = 'GET', body?: unknown) =>
    fetch(`${devVault.api}/v1/${path}`, {
      method,
      headers: token === undefined ? {} : { 'X-Vault-Token': token },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
  const sealStatus = async () => (await (await vault('sys/seal-status', undefined)).json()) as SealStatus;
  const keysDir = () => join(dir, 'vault-keys');
  const rootToken = () => readFileSync(join(keysDir(), 'root.token'), 'utf8').trim();
  const readSecret = (token: string) =>
    eventually('the secret readable (Vault active)', 30_000, async () => {
      const r = await vault('runbook/data/app', token);
      return r.ok ? ((await r.json()) as { data: { data: { v: string } } }).data.data.v : undefined;
    });
  const writeSecret = async (token: string, v: string) => expect((await vault('runbook/data/app', token, 'PUT', { data: { v } })).status).to.equal(200);

  it('vault.md: init keeps five shares and the root token in 0600 files; three shares unseal; restarted, Vault is sealed, two shares are not enough, three unseal it with its data', async function () {
    this.timeout(180_000);
    const t0 = Date.now();
    const printed: string[] = [];
    const vstep = async (i: number) => {
      const r = await step('vault.md', i, { KEYS: keysDir() });
      printed.push(r.stdout, r.stderr);
    };
    expect(await sealStatus()).to.include({ initialized: false, sealed: true });
    await vstep(1);
    const files = readdirSync(keysDir()).sort();
    expect(files).to.deep.equal(['root.token', 'unseal-key-1', 'unseal-key-2', 'unseal-key-3', 'unseal-key-4', 'unseal-key-5']);
    for (const f of files) expect(statSync(join(keysDir(), f)).mode & 0o777, f).to.equal(0o600);
    expect(await sealStatus()).to.include({ initialized: true, sealed: true, t: 3, n: 5 });

    await vstep(2);
    expect(await sealStatus()).to.include({ sealed: false });
    const root = rootToken();
    expect((await vault('sys/mounts/runbook', root, 'POST', { type: 'kv', options: { version: '2' } })).status).to.equal(204);
    await eventually('kv mount ready', 15_000, async () => ((await vault('runbook/data/app', root, 'PUT', { data: { v: 'kept' } })).ok ? true : undefined));

    await vstep(3);
    expect(await sealStatus()).to.include({ initialized: true, sealed: true, progress: 0 });
    expect((await vault('runbook/data/app', root)).status, 'a sealed Vault serves nothing').to.equal(503);
    for (const i of [4, 5]) {
      const key = readFileSync(join(keysDir(), `unseal-key-${i}`), 'utf8').trim();
      expect((await vault('sys/unseal', undefined, 'PUT', { key })).status).to.equal(200);
    }
    expect(await sealStatus(), 'two of three shares').to.include({ sealed: true, progress: 2 });
    expect((await vault('sys/unseal', undefined, 'PUT', { reset: true })).status).to.equal(200);

    await vstep(2);
    expect(await sealStatus()).to.include({ sealed: false });
    expect(await readSecret(root)).to.equal('kept');

    const secrets = [root, ...files.filter((f) => f.startsWith('unseal')).map((f) => readFileSync(join(keysDir(), f), 'utf8').trim())];
    for (const x of secrets) expect(printed.join('\n').includes(x), 'a key share or the root token was printed').to.equal(false);
    process.stdout.write(`      vault.md: init, unseal, restart, unseal in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  });

  it('snapshot.md (Vault): a raft snapshot restore brings back the secret as it was at the save', async function () {
    const extra = { BACKUP: join(dir, 'backup'), VAULT_TOKEN_FILE: join(keysDir(), 'root.token') };
    const root = rootToken();
    await writeSecret(root, 'at-save');
    const save = await step('snapshot.md', 3, extra);
    expect(statSync(join(dir, 'backup', 'vault.snap')).size).to.be.greaterThan(0);
    expect(save.stdout + save.stderr).to.not.contain(root);
    await writeSecret(root, 'after-save');
    expect(await readSecret(root)).to.equal('after-save');
    await step('snapshot.md', 4, extra);
    expect(await sealStatus()).to.include({ sealed: false });
    expect(await readSecret(root)).to.equal('at-save');
  });
});
