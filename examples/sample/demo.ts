/**
 * The whole path on the dev stack, as CI would run it (`npx tsx examples/sample/demo.ts`):
 * build the sample as images through the registry API (v1, v2, and v3 whose
 * /health fails only in production), push them to the QA registry tagged with
 * the build number, then for each build `hashiship deploy --env qa --image
 * sample=<n> --build <n>` and `hashiship promote --from qa --to production
 * --build <n>`. v1 and v2 reach production; v3 passes QA, fails its production
 * canary and is rolled back (exit 3). Prints a summary. Starts from a clean
 * slate: the sample's jobs in the qa/production namespaces and its keys are
 * removed first.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { main } from '../../src/cli.js';
import { resolveConfig } from '../../src/config/index.js';
import { hostArchitecture } from '../../src/promote/image.js';
import { pushImage } from '../../src/registry/index.js';
import { stackEnv, up } from '../../src/stack/stack.js';
import { homedir } from 'node:os';
import { join } from 'node:path';

const here = new URL('./', import.meta.url);
const dirs = ['--services', new URL('jobs/services', here).pathname, '--environments', new URL('jobs/environments', here).pathname];

function version(host: string): Promise<string> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: 9999, path: '/version', headers: { Host: host } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(res.statusCode === 200 ? body.trim() : `status ${res.statusCode}`));
    });
    req.on('error', (e) => resolve(e.message));
    req.end();
  });
}

const options = { cacheDir: process.env['HASHISHIP_CACHE'] || join(homedir(), '.cache', 'hashiship') };
await up(options);
const env = stackEnv(options);
Object.assign(process.env, env);
const config = resolveConfig({ env, home: '/nonexistent' });
for (const ns of ['qa', 'production']) {
  await fetch(`${config.nomad.address}/v1/namespace/${ns}`, { method: 'PUT', body: JSON.stringify({ Name: ns }) });
  await fetch(`${config.nomad.address}/v1/job/sample?purge=true&namespace=${ns}`, { method: 'DELETE' });
}
for (const k of ['hashiship/releases/qa/sample', 'hashiship/releases/production/sample', 'hashiship/promotions/production/sample', 'fabio/config/sample']) {
  await fetch(`${config.consul.address}/v1/kv/${k}?recurse=true`, { method: 'DELETE' });
}

const server = readFileSync(new URL('app/server.py', here), 'utf8');
const summary: string[] = [];
// Build numbers are unique per demo run, as CI's are: a tag is never moved.
const run = Math.floor(Date.now() / 1000) % 1_000_000;
const builds: { build: string; v: string; brokenIn?: string }[] = [
  { build: `${run}1`, v: 'v1' },
  { build: `${run}2`, v: 'v2' },
  { build: `${run}3`, v: 'v3', brokenIn: 'production' },
];
for (const b of builds) {
  const files: Record<string, string> = { 'app/server.py': server, 'app/VERSION': `${b.v}\n` };
  if (b.brokenIn !== undefined) files['app/broken_in'] = `${b.brokenIn}\n`;
  const pushed = await pushImage(`127.0.0.1:5001/hashiship/sample:${b.build}`, {
    platforms: [{ os: 'linux', architecture: hostArchitecture(), layers: [{ files }] }],
  });
  process.stdout.write(`\n== build ${b.build} (${b.v}${b.brokenIn === undefined ? '' : `, broken in ${b.brokenIn}`}): ${pushed.digest}\n`);
  const deployed = await main(['deploy', '--env', 'qa', 'sample', '--image', `sample=${b.build}`, '--build', b.build, ...dirs]);
  const promoted = await main(['promote', '--from', 'qa', '--to', 'production', 'sample', '--build', b.build, '--hold', '2s', ...dirs]);
  summary.push(
    `build ${b.build} (${b.v}): deploy qa exit ${deployed}, promote exit ${promoted}; qa serves ${await version('sample.qa.local')}, production serves ${await version('sample.prod.local')}`,
  );
}
await main(['releases', '--env', 'production', 'sample']);
process.stdout.write(`\n== summary\n${summary.join('\n')}\n`);
