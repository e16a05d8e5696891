#!/usr/bin/env node
/**
 * `npm run demo` (after `dev up`): the whole QA → production path of the sample
 * service (examples/sample) on the local stack, through hashiship's library.
 * Three images are built through the registry API and pushed to the QA registry
 * under fresh build numbers; each is deployed to QA (which records the evidence),
 * then promoted to production by digest: v1 and v2 go through the canary and the
 * Fabio weight steps; v3 is healthy in QA but fails its production health check,
 * so its promotion is rolled back (exit 3, the expected outcome). The summary ends
 * with what production serves through Fabio; the exit code is 0 only when all of
 * that happened as described. Re-runnable: every run takes new build numbers.
 *
 * Variables: HASHISHIP_DEMO_HOLD (each weight step's hold, default 1s).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createClients, fabioRoutes, fabioWeights, HashishipError, HttpApi, promote as p, registry, resolveConfig, stack } from 'hashiship';

const started = Date.now();
const sample = new URL('../examples/sample/', import.meta.url).pathname;
const dirs = { services: join(sample, 'jobs/services'), environments: join(sample, 'jobs/environments') };
const service = 'sample';
const repository = 'hashiship/sample';
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
const fabio = fabioRoutes.fabioApi();
const proxy = new HttpApi({ server: 'fabio proxy', baseURL: p.DefaultFabioProxy, timeoutMs: 10_000 });
const say = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);
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
  const base = await lastBuild();
  const server = readFileSync(join(sample, 'app/server.py'), 'utf8');
  const rows = [];
  for (const [i, v] of versions.entries()) {
    const build = String(base + 1 + i);
    const t = Date.now();
    say(`\n== ${v.version}: build ${build}${v.brokenIn === undefined ? '' : ` (broken in ${v.brokenIn})`}`);
    const files = { 'app/server.py': server, 'app/VERSION': `${v.version}\n`, ...(v.brokenIn === undefined ? {} : { 'app/broken_in': `${v.brokenIn}\n` }) };
    const image = await registry.pushImage(`${qaRegistry}/${repository}:${build}`, {
      platforms: [{ os: 'linux', architecture: p.hostArchitecture(), layers: [{ files }], config: { Cmd: ['python3', '/app/server.py'] } }],
    });
    say(`  pushed ${qaRegistry}/${repository}:${build} ${image.digest}`);
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

  const [, v2, v3] = rows;
  if (v2 === undefined || v3 === undefined) throw new Error(`demo: ${rows.length} versions ran, expected ${versions.length}`);
  const problems = [
    ...rows.filter((r) => !r.qaOk).map((r) => `${r.version} did not pass QA`),
    ...rows.filter((r) => r.qaOk && r.prod.outcome !== r.expect).map((r) => `${r.version} was ${r.prod.outcome} in production, expected ${r.expect}`),
    ...(v3.prod.outcome === 'reverted' && v3.prod.exitCode !== 3 ? [`v3's promotion exited ${v3.prod.exitCode}, expected 3`] : []),
    ...(serving === 'v2' ? [] : [`production serves ${serving}, expected v2`]),
    ...(record?.digest === v2.digest ? [] : [`production's release record names ${record?.digest}, expected v2's ${v2.digest}`]),
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
  process.stderr.write(`demo failed: ${err instanceof HashishipError ? err.describe() : (err.stack ?? err)}\n`);
  process.exitCode = err instanceof HashishipError ? err.exitCode : 1;
}
