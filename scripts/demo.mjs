#!/usr/bin/env node
/**
 * `npm run demo` (after `dev up`): the whole QA → production path of the sample
 * service (examples/sample) on the local stack, through hashiship's library.
 * The sample ships as a container, the way its .travis.yml ships it: the base made
 * from Debian's packages (scripts/images/python.sh), then three images built with
 * `docker build` on the stack's engine and `docker push`ed to the QA registry under
 * fresh build numbers; each is deployed to QA (which records the evidence), then
 * promoted to production by digest (Nomad's docker driver pulls
 * `127.0.0.1:5002/hashiship/sample@sha256:…`): v1 and v2 go through the canary and
 * the Fabio weight steps; v3 is healthy in QA but fails its production health check,
 * so its promotion is rolled back (exit 3, the expected outcome). The summary ends
 * with what production serves through Fabio and the image its containers run (read
 * from Nomad and the engine); the exit code is 0 only when all of that happened as
 * described. Re-runnable: every run takes new build numbers.
 *
 * Variables: HASHISHIP_DEMO_HOLD (each weight step's hold, default 1s).
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { $ } from 'zx';
import {
  createClients,
  escapeLines,
  escapeOutput,
  fabioRoutes,
  fabioWeights,
  HashishipError,
  HttpApi,
  promote as p,
  redactorFromEnv,
  resolveConfig,
  stack,
} from 'hashiship';

const started = Date.now();
const sample = new URL('../examples/sample/', import.meta.url).pathname;
const dirs = { services: join(sample, 'jobs/services'), environments: join(sample, 'jobs/environments') };
const service = 'sample';
const repository = 'hashiship/sample';
const base = 'hashiship/python:3.11';
const qaRegistry = '127.0.0.1:5001';
const prodRegistry = '127.0.0.1:5002';
const holdMs = 1000 * Number((process.env.HASHISHIP_DEMO_HOLD ?? '1s').replace(/s$/, ''));

const stackOptions = {
  cacheDir: process.env.HASHISHIP_CACHE || join(homedir(), '.cache', 'hashiship'),
  ...(process.env.HASHISHIP_STACK_DIR ? { stateDir: process.env.HASHISHIP_STACK_DIR } : {}),
};
const env = { ...process.env, ...stack.stackEnv(stackOptions) };
const config = resolveConfig({ env });
const clients = createClients(config, env);
// The docker CLI on the stack's engine (DOCKER_HOST from `dev env`), the legacy builder (no BuildKit here).
const docker = $({ env: { ...env, DOCKER_BUILDKIT: '0' }, quiet: true });
const fabio = fabioRoutes.fabioApi();
const proxy = new HttpApi({ server: 'fabio proxy', baseURL: p.DefaultFabioProxy, timeoutMs: 10_000 });
// The demo's own lines go through hashiship's redaction and escaping, as the CLI's do (the stack's tokens are in `env`;
// an error's description can echo a server's answer).
const redactor = redactorFromEnv(env);
const say = (/** @type {string} */ line) => process.stdout.write(redactor.known(escapeOutput(`${line}\n`)));
const seconds = (/** @type {number} */ t) => `${((Date.now() - t) / 1000).toFixed(1)} s`;

/** Progress lines: the promotion's steps and the weights Fabio showed. @param {import('hashiship').Event} e */
function log(e) {
  if (e.kind === 'promote.step' && (e.status === 'done' || e.status === 'fail'))
    say(`    ${e.step.padEnd(10)} ${e.status}${e.status === 'fail' ? `: ${e.detail}` : ''}`);
  if (e.kind === 'promote.weight') say(`    weight ${e.percent} %: Fabio gives the canary ${(e.observed * 100).toFixed(1)} %, held ${e.holdMs / 1000} s`);
}

/** The highest build number tagged in either registry: this run starts above it. */
async function lastBuild() {
  let last = 0;
  for (const host of [qaRegistry, prodRegistry]) {
    const res = await fetch(`http://${host}/v2/${repository}/tags/list`);
    if (res.status === 404) continue;
    if (!res.ok) throw new Error(`registry ${host}: tags of ${repository}: ${res.status} ${await res.text()}`);
    for (const t of /** @type {{ tags?: string[] }} */ (await res.json()).tags ?? []) if (/^\d+$/.test(t)) last = Math.max(last, Number(t));
  }
  return last;
}

/**
 * `docker build` of examples/sample (a `broken_in` file added for a broken version)
 * and `docker push` to the QA registry; the digest the registry gave the push.
 * @param {string} build @param {string} version @param {string | undefined} brokenIn
 */
async function buildImage(build, version, brokenIn) {
  const context = mkdtempSync(join(tmpdir(), 'hashiship-demo-'));
  try {
    cpSync(join(sample, 'Dockerfile'), join(context, 'Dockerfile'));
    cpSync(join(sample, 'app'), join(context, 'app'), { recursive: true });
    if (brokenIn !== undefined) writeFileSync(join(context, 'app/broken_in'), `${brokenIn}\n`);
    const tag = `${qaRegistry}/${repository}:${build}`;
    await docker`docker build --quiet --build-arg ${`VERSION=${version}`} --tag ${tag} ${context}`;
    await docker`docker push --quiet ${tag}`;
    const digests = JSON.parse((await docker`docker image inspect --format ${'{{json .RepoDigests}}'} ${tag}`).stdout);
    const ref = digests.find((/** @type {string} */ d) => d.startsWith(`${qaRegistry}/${repository}@`));
    if (ref === undefined) throw new Error(`no registry digest of ${tag} after docker push: ${JSON.stringify(digests)}`);
    return { tag, digest: ref.slice(ref.indexOf('@') + 1) };
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

/** What production's job names and the images its running containers were created from (Nomad, then the engine). */
async function productionImages() {
  const job = /** @type {{ TaskGroups?: { Tasks?: { Config?: { image?: string } }[] }[] }} */ (
    await (await fetch(`${config.nomad.address}/v1/job/${service}?namespace=production`)).json()
  );
  const named = job.TaskGroups?.[0]?.Tasks?.[0]?.Config?.image ?? '';
  const allocs = /** @type {{ ID: string, ClientStatus: string, DesiredStatus: string }[]} */ (
    await (await fetch(`${config.nomad.address}/v1/job/${service}/allocations?namespace=production`)).json()
  );
  /** @type {string[]} */
  const containers = [];
  for (const a of allocs.filter((a) => a.ClientStatus === 'running' && a.DesiredStatus === 'run')) {
    const ps = await docker`docker ps --no-trunc --filter ${`label=com.hashicorp.nomad.alloc_id=${a.ID}`} --format ${'{{.Image}}'}`;
    containers.push(...ps.stdout.split('\n').filter(Boolean));
  }
  return { named, containers };
}

/** GET a path of a Fabio host through the proxy: [status, body]. @param {string} host @param {string} path */
async function viaFabio(host, path) {
  const res = await proxy.request('demo', { path, headers: { Host: host }, responseType: 'text', accept: [404, 500, 502, 503] });
  return [res.status, String(res.data).trim()];
}

const versions = [
  { version: 'v1', expect: 'promoted' },
  { version: 'v2', expect: 'promoted' },
  { version: 'v3', expect: 'reverted', brokenIn: 'production' },
];

async function run() {
  for (const ns of ['qa', 'production']) {
    const res = await fetch(`${config.nomad.address}/v1/namespace/${ns}`, {
      method: 'PUT',
      body: JSON.stringify({ Name: ns, Description: `hashiship ${ns}` }),
    });
    if (!res.ok) throw new Error(`nomad: namespace ${ns}: ${res.status} ${await res.text()}`);
  }
  // The sample's base, made from Debian's packages (cached; no Docker Hub), as .travis.yml makes it.
  const tb = Date.now();
  const context = (await $({ quiet: true })`bash ${join(sample, '../../scripts/images/python.sh')}`).stdout.trim().split('\n').pop();
  await docker`docker build --quiet --tag ${base} ${context}`;
  say(`base image ${base} from scripts/images/python.sh (${seconds(tb)})`);
  const first = await lastBuild();
  const rows = [];
  for (const [i, v] of versions.entries()) {
    const build = String(first + 1 + i);
    const t = Date.now();
    say(`\n== ${v.version}: build ${build}${v.brokenIn === undefined ? '' : ` (broken in ${v.brokenIn})`}`);
    const image = await buildImage(build, v.version, v.brokenIn);
    say(`  docker build + docker push ${image.tag} ${image.digest}`);
    const qa = await p.deployRelease(config, { environment: 'qa', names: [service], dirs, overrides: new Map([[service, build]]), build, fabio, clients });
    const qaOk = qa.exitCode === 0 && qa.records[0]?.digest === image.digest;
    say(`  QA: exit ${qa.exitCode}${qa.failures.map((f) => `\n    ${f.error.describe()}`).join('')}`);
    /** @type {{ outcome: string, exitCode: number, message: string, error?: HashishipError }} */
    let prod = { outcome: 'skipped', exitCode: -1, message: 'QA failed' };
    if (qaOk) {
      say(`  promote to production:`);
      const r = await p.promote(config, {
        from: 'qa',
        to: 'production',
        names: [service],
        dirs,
        build,
        holdMs,
        fabio,
        log,
        healthDeadlineMs: v.brokenIn === undefined ? 30_000 : 10_000,
        clients,
      });
      prod = r.results[0] ?? { outcome: 'nothing', exitCode: r.exitCode, message: 'no result' };
      say(`  production: ${prod.outcome} (exit ${prod.exitCode}) ${prod.message}`);
      if (prod.exitCode !== 0 && prod.error !== undefined) say(prod.error.describe().replace(/^/gm, '    '));
    }
    rows.push({
      ...v,
      build,
      digest: image.digest,
      qa: qaOk ? `passed (exit ${qa.exitCode})` : `FAILED (exit ${qa.exitCode})`,
      qaOk,
      prod,
      seconds: seconds(t),
    });
  }

  // What production serves now, through Fabio, and what it says it runs.
  const answers = [];
  for (let i = 0; i < 5; i++) answers.push((await viaFabio(`${service}.prod.local`, '/version'))[1]);
  const record = (await p.readRelease(clients.consul, 'production', service))?.record;
  const rule = await clients.consul.kv.get(fabioWeights.weightKey(service));
  const serving = [...new Set(answers)].join(', ');
  const running = await productionImages();

  say('\n== summary');
  const header = ['version', 'build', 'QA', 'production', 'digest', 'time'];
  const table = [header];
  for (const r of rows) table.push([r.version, r.build, r.qa, `${r.prod.outcome} (exit ${r.prod.exitCode})`, r.digest.slice(0, 19), r.seconds]);
  const widths = header.map((_, c) => Math.max(...table.map((row) => (row[c] ?? '').length)));
  for (const row of table)
    say(
      `  ${row
        .map((cell, c) => cell.padEnd(widths[c] ?? 0))
        .join('  ')
        .trimEnd()}`,
    );
  say(`  production serves through Fabio (${service}.prod.local, 5 requests): ${serving}`);
  say(
    `  production release record: #${record?.seq} build ${record?.build} ${record?.digest?.slice(0, 19)}; weight rule: ${rule === undefined ? 'none' : 'LEFT BEHIND'}`,
  );
  say(`  production's job pulls ${running.named}; its containers run ${[...new Set(running.containers)].join(', ') || 'nothing'}`);

  const [, v2, v3] = rows;
  if (v2 === undefined || v3 === undefined) throw new Error(`demo: ${rows.length} versions ran, expected ${versions.length}`);
  const problems = [
    ...rows.filter((r) => !r.qaOk).map((r) => `${r.version} did not pass QA`),
    ...rows.filter((r) => r.qaOk && r.prod.outcome !== r.expect).map((r) => `${r.version} was ${r.prod.outcome} in production, expected ${r.expect}`),
    ...(v3.prod.outcome === 'reverted' && v3.prod.exitCode !== 3 ? [`v3's promotion exited ${v3.prod.exitCode}, expected 3`] : []),
    ...(serving === 'v2' ? [] : [`production serves ${serving}, expected v2`]),
    ...(record?.digest === v2.digest ? [] : [`production's release record names ${record?.digest}, expected v2's ${v2.digest}`]),
    ...(running.named === `${prodRegistry}/${repository}@${v2.digest}` && running.containers.length > 0 && running.containers.every((c) => c === running.named)
      ? []
      : [`production runs ${running.named} in ${running.containers.join(', ') || 'no container'}, expected ${prodRegistry}/${repository}@${v2.digest}`]),
    ...(rule === undefined ? [] : [`a weight rule is left behind at ${fabioWeights.weightKey(service)}`]),
  ];
  say(
    `\n${problems.length === 0 ? 'demo: everything behaved as expected' : `demo: UNEXPECTED:\n${problems.map((x) => `  - ${x}`).join('\n')}`} (${seconds(started)})`,
  );
  return problems.length === 0 ? 0 : 1;
}

try {
  process.exitCode = await run();
} catch (/** @type {any} */ err) {
  process.stderr.write(redactor.text(escapeLines(`demo failed: ${err instanceof HashishipError ? err.describe() : (err.stack ?? err)}\n`)));
  process.exitCode = err instanceof HashishipError ? err.exitCode : 1;
}
