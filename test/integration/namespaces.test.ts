/**
 * Every verb on a namespaced environment, through the CLI (`node dist/cli.js`)
 * with NOMAD_NAMESPACE unset, on the real stack. The regressions it guards
 * (issue 11 §1): status listed no jobs of a namespaced environment and called a
 * running job `missing`; plan called an existing job new; deploy watched the
 * default namespace until its deadline and exited 4 while Nomad had rolled back
 * (exit 3); promote-canaries found nothing to promote; routes listed another
 * environment's route of a service with the same Consul name.
 *
 * Two environments of one service, each in a throwaway namespace it declares
 * (`namespaces:`), so hashiship creates them; names carry a random suffix and
 * everything is purged afterwards. promote, rollback, releases and
 * `deploy --image --build` on the namespaces `qa`/`production` are covered
 * through the CLI by test/integration/promote.test.ts.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ExitCode } from '../../src/errors.js';
import type { NomadClient } from '../../src/nomad/client.js';
import { Jobs } from '../../src/nomad/jobs.js';
import { Namespaces } from '../../src/nomad/namespaces.js';
import { ensureBuilt } from '../helpers/dist.js';
import { useStack, type TestStack } from '../helpers/stack.js';

const root = new URL('../../', import.meta.url).pathname;
const run = randomBytes(3).toString('hex');
const SVC = `nsweb-${run}`;
const QA = `nsqa-${run}`;
const PROD = `nsprod-${run}`;
const NS_QA = `hs-qa-${run}`;
const NS_PROD = `hs-prod-${run}`;
const NS_MISSING = `hs-missing-${run}`;

/** The service: python's http.server under raw_exec with a Consul HTTP check and a Fabio route. */
function serviceYaml(o: { readonly version: string; readonly checkPath?: string; readonly canary?: number }): string {
  return `name: ${SVC}
groups:
  - name: web
    count: 1
    shutdown_delay: 1s
    ports:
      http: {}
    update:
      max_parallel: 1
      min_healthy_time: 1s
      healthy_deadline: 10s
      progress_deadline: 20s
      auto_revert: true
      canary: ${o.canary ?? 0}
    restart:
      attempts: 0
      interval: 1m
      delay: 1s
      mode: fail
    reschedule:
      attempts: 0
      unlimited: false
    services:
      - port: http
        checks:
          - type: http
            path: ${o.checkPath ?? '/'}
            interval: 1s
            timeout: 1s
        routes:
          - host: ${SVC}
    tasks:
      - name: web
        driver: raw_exec
        command: /usr/bin/python3
        args: ["-m", "http.server", "\${NOMAD_PORT_http}", "--bind", "127.0.0.1"]
        env:
          APP_VERSION: "${o.version}"
        kill_timeout: 1s
        resources:
          cpu: 50
          memory: 64
`;
}

function environmentYaml(name: string, namespace: string, declare: boolean): string {
  return `name: ${name}
namespace: ${namespace}
${declare ? `namespaces:\n  - name: ${namespace}\n    description: hashiship namespaces test ${run}\n` : ''}datacenters: ["*"]
domain: ${name}.local
`;
}

interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

describe('namespaces: every verb on a namespaced environment through the CLI (NOMAD_NAMESPACE unset)', function () {
  let stack: TestStack;
  let dir: string;
  let nomad: NomadClient;
  // The default layout (jobs/services, jobs/environments): `routes` reads specs from there.
  const services = () => join(dir, 'jobs', 'services');
  const environments = () => join(dir, 'jobs', 'environments');

  /** `node dist/cli.js …` with the stack's variables and without NOMAD_NAMESPACE. */
  const cli = (...args: string[]): Promise<CliRun> =>
    new Promise((resolve, reject) => {
      const env: Record<string, string | undefined> = { ...process.env, ...stack.env, NO_COLOR: '1' };
      delete env['NOMAD_NAMESPACE'];
      const child = spawn(process.execPath, [join(root, 'dist/cli.js'), ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const specFlags = ['--services', 'jobs/services', '--environments', 'jobs/environments'];
  const json = <T>(r: CliRun): T => {
    try {
      return JSON.parse(r.stdout) as T;
    } catch {
      throw new Error(`not JSON (exit ${r.code}): ${r.stdout}${r.stderr}`);
    }
  };
  const writeService = (o: Parameters<typeof serviceYaml>[0]) => writeFileSync(join(services(), `${SVC}.yaml`), serviceYaml(o));
  const jobIn = (namespace: string) => new Jobs(nomad.in(namespace)).get(SVC);

  before(async function () {
    this.timeout(40 * 60_000);
    stack = await useStack();
    nomad = stack.clients.nomad.client;
    expect(stack.env['NOMAD_NAMESPACE'], 'the stack sets no namespace').to.equal(undefined);
    // The verbs run from dist/: rebuild it when src/ changed since.
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'hashiship-namespaces-'));
    mkdirSync(services(), { recursive: true });
    mkdirSync(environments(), { recursive: true });
    writeService({ version: 'v1' });
    writeFileSync(join(environments(), `${QA}.yaml`), environmentYaml(QA, NS_QA, true));
    writeFileSync(join(environments(), `${PROD}.yaml`), environmentYaml(PROD, NS_PROD, true));
  });

  after(async function () {
    this.timeout(60_000);
    if (stack === undefined) return;
    for (const ns of [NS_QA, NS_PROD]) await new Jobs(nomad.in(ns)).deregister(SVC, { purge: true }).catch(() => undefined);
    // hashiship never deletes a namespace; the test removes its throwaway ones once empty.
    for (const ns of [NS_QA, NS_PROD]) {
      for (let i = 0; i < 20; i++) {
        const res = await nomad.request('namespaces.delete', { method: 'DELETE', path: `/v1/namespace/${ns}`, accept: [400, 404, 500] });
        if (res.status < 300 || res.status === 404) break;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('plan shows the namespace it will create and plans the job there (exit 1), creating nothing', async function () {
    this.timeout(60_000);
    const r = await cli('plan', '--env', QA, ...specFlags);
    expect(r.code, r.stderr).to.equal(1);
    expect(r.stdout).to.include(`namespace ${NS_QA}: will be created ("hashiship namespaces test ${run}")`);
    expect(r.stdout).to.include(`${SVC}: will be created  (namespace ${NS_QA}; job modify index 0;`);
    expect(r.stdout).to.include(`placement: not checked (namespace ${NS_QA} is created on deploy`);
    expect(r.stdout).to.include(`Plan for ${QA}: 1 namespace to create, 1 to create, 0 to update, 0 to stop, 0 unchanged.`);
    expect(await new Namespaces(nomad).get(NS_QA), 'plan writes nothing').to.equal(undefined);
  });

  it('a job in a namespace that neither exists nor is declared is refused before anything is planned (exit 6)', async function () {
    this.timeout(60_000);
    const bad = `nsbad-${run}`;
    writeFileSync(join(environments(), `${bad}.yaml`), environmentYaml(bad, NS_MISSING, false));
    try {
      for (const verb of ['plan', 'deploy']) {
        const r = await cli(verb, '--env', bad, ...specFlags);
        expect(r.code, `${verb}: ${r.stdout}${r.stderr}`).to.equal(ExitCode.gate);
        expect(r.stderr).to.include(`namespace ${NS_MISSING} not found in Nomad; nothing was planned or registered`);
        expect(r.stderr).to.include(`${SVC} (${join('jobs/services', `${SVC}.yaml`)}) is in namespace ${NS_MISSING}`);
        expect(r.stderr).to.include(`nomad namespace apply ${NS_MISSING}`);
      }
      expect(await new Namespaces(nomad).get(NS_MISSING)).to.equal(undefined);
    } finally {
      rmSync(join(environments(), `${bad}.yaml`));
    }
  });

  it('deploy creates the namespace and deploys the job in it (exit 0), not in the default namespace', async function () {
    this.timeout(120_000);
    const r = await cli('deploy', '--env', QA, ...specFlags);
    expect(r.code, `${r.stdout}${r.stderr}`).to.equal(0);
    expect(r.stderr).to.include(`nomad    namespace ${NS_QA}: created`);
    expect(r.stdout).to.match(new RegExp(`${SVC}\\s+successful`));
    const ns = await new Namespaces(nomad).get(NS_QA);
    expect(ns?.Description).to.equal(`hashiship namespaces test ${run}`);
    const live = await jobIn(NS_QA);
    expect(live?.Namespace).to.equal(NS_QA);
    expect(live?.Version).to.equal(0);
    expect(await jobIn('default')).to.equal(undefined);
  });

  it('status lists the job with its namespace; status <svc> finds it there', async function () {
    this.timeout(60_000);
    const all = await cli('status', '--env', QA);
    expect(all.code, all.stderr).to.equal(0);
    expect(all.stdout).not.to.include('no jobs owned by hashiship');
    expect(all.stdout.split('\n')[0]).to.match(/^JOB\s+NAMESPACE\s+STATUS/);
    expect(all.stdout).to.match(new RegExp(`^${SVC}\\s+${NS_QA}\\s+running\\s+0\\s+\\S+ \\(v0\\)\\s+1/1`, 'm'));
    const one = await cli('status', '--env', QA, SVC, '--json');
    expect(one.code, one.stderr).to.equal(0);
    const [row] = json<{ jobs: { job: string; namespace: string; status: string; version: number }[] }>(one).jobs;
    expect(row).to.include({ job: SVC, namespace: NS_QA, status: 'running', version: 0 });
  });

  it('plan again: the namespace exists and the job is unchanged (exit 0)', async function () {
    this.timeout(60_000);
    const r = await cli('plan', '--env', QA, ...specFlags);
    expect(r.code, `${r.stdout}${r.stderr}`).to.equal(0);
    expect(r.stdout).to.include(`namespace ${NS_QA}: exists`);
    expect(r.stdout).to.include(`${SVC}: no changes  (namespace ${NS_QA};`);
    expect(r.stdout).to.include(`Plan for ${QA}: 0 to create, 0 to update, 0 to stop, 1 unchanged.`);
  });

  it("routes lists only the environment's own route of a service another environment runs under the same name", async function () {
    this.timeout(120_000);
    const prod = await cli('deploy', '--env', PROD, ...specFlags);
    expect(prod.code, `${prod.stdout}${prod.stderr}`).to.equal(0);
    expect((await jobIn(NS_PROD))?.Namespace).to.equal(NS_PROD);
    // Fabio picks routes up from Consul within a few seconds: wait, bounded, until both are live.
    let r: CliRun | undefined;
    for (const end = Date.now() + 30_000; Date.now() < end; await new Promise((x) => setTimeout(x, 500))) {
      r = await cli('routes', '--env', QA, '--json');
      const live = json<{ live: { src: string }[] }>(r).live;
      const p = await cli('routes', '--env', PROD);
      if (r.code === 0 && p.code === 0 && live.length > 0) break;
    }
    expect(r?.code, `${r?.stdout}${r?.stderr}`).to.equal(0);
    const doc = json<{ live: { service: string; src: string }[] }>(r!);
    expect(doc.live.map((l) => l.src)).to.deep.equal([`${SVC}.${QA}.local/`]);
    const text = await cli('routes', '--env', QA);
    expect(text.code).to.equal(0);
    expect(text.stdout).to.include(`${SVC}.${QA}.local/ → `);
    expect(text.stdout).not.to.include(`${PROD}.local`);
  });

  it('deploy --until promotion-ready stops at healthy canaries (exit 10); promote-canaries finds and finishes them in the namespace (exit 0)', async function () {
    this.timeout(180_000);
    writeService({ version: 'v2', canary: 1 });
    const ready = await cli('deploy', '--env', QA, ...specFlags, '--until', 'promotion-ready');
    expect(ready.code, `${ready.stdout}${ready.stderr}`).to.equal(ExitCode.promotionReady);
    const promoted = await cli('promote-canaries', '--env', QA);
    expect(promoted.code, `${promoted.stdout}${promoted.stderr}`).to.equal(0);
    expect(promoted.stdout).not.to.include('no deployment waits for promotion');
    expect(promoted.stdout).to.match(new RegExp(`${SVC}\\s+successful`));
    const live = await jobIn(NS_QA);
    expect(live?.Version).to.equal(1);
    expect(live?.TaskGroups?.[0]?.Tasks?.[0]).to.deep.include({ Name: 'web' });
  });

  it("a failing deploy in the namespace is followed into Nomad's rollback: exit 3, not 4", async function () {
    this.timeout(240_000);
    writeService({ version: 'v3', checkPath: '/nope' });
    const t = Date.now();
    const r = await cli('deploy', '--env', QA, ...specFlags);
    expect(r.code, `${r.stdout}${r.stderr}`).to.equal(ExitCode.reverted);
    expect(r.stderr).to.include(`${SVC}: deployment failed and Nomad rolled back`);
    expect(r.stdout).to.match(new RegExp(`${SVC}\\s+reverted \\(exit 3\\)`));
    // Well before the default deadline (2 × 20 s progress deadline + 2 min): the watch saw the revert.
    expect(Date.now() - t).to.be.below(150_000);
    const live = await jobIn(NS_QA);
    // Version 3 is the revert to version 1's spec (v2).
    expect(live?.Version).to.equal(3);
  });

  it('deploy without changes registers nothing (exit 0); removing the spec lists the job in its namespace: kept, and a stop with --prune', async function () {
    this.timeout(120_000);
    writeService({ version: 'v2', canary: 1 });
    const same = await cli('deploy', '--env', QA, ...specFlags);
    expect(same.code, `${same.stdout}${same.stderr}`).to.equal(0);
    expect(same.stdout).to.match(new RegExp(`${SVC}\\s+unchanged`));
    expect((await jobIn(NS_QA))?.Version).to.equal(3);
    rmSync(join(services(), `${SVC}.yaml`));
    const other = join(services(), `nsother-${run}.yaml`);
    writeFileSync(other, serviceYaml({ version: 'x' }).replace(`name: ${SVC}`, `name: nsother-${run}`).replace(`host: ${SVC}`, `host: nsother-${run}`));
    try {
      const orphan = {
        id: SVC,
        namespace: NS_QA,
        jobModifyIndex: (await jobIn(NS_QA))!.JobModifyIndex,
        reason: `owned by hashiship in ${QA}; its spec was removed`,
      };
      const kept = json<{ stops: unknown[]; kept: unknown[] }>(await cli('plan', '--env', QA, ...specFlags, '--json'));
      expect(kept.stops).to.deep.equal([]);
      expect(kept.kept).to.deep.include(orphan);
      const pruned = json<{ stops: unknown[] }>(await cli('plan', '--env', QA, ...specFlags, '--json', '--prune'));
      expect(pruned.stops).to.deep.include(orphan);
    } finally {
      rmSync(other);
      writeService({ version: 'v2', canary: 1 });
    }
  });
});
