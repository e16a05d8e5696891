/**
 * Render 1,000 specs to HCL and JSON in one fresh Node process, timed from spawn
 * to exit (so Node start-up is included), with the process's peak memory; beside
 * it, the time Nomad's own `/v1/jobs/parse` takes over the same 1,000 HCL outputs.
 *
 * The 1,000 specs are the examples in jobs/services, renamed (web-0000, …) and
 * merged with a `bench` environment. Three processes are measured:
 *   - render: the merged specs (one JSON document) → the 1,000 jobs as one HCL
 *     stream and one JSON document (as `hashiship render` prints them);
 *   - validate + render: the 1,000 YAML files → the same outputs, as `hashiship render` does;
 *   - the CLI itself: `node dist/cli.js render --env bench --out DIR` over the
 *     1,000 YAML files (commander, config, every file written) — the figure a
 *     user sees, which must stay under 1 s.
 * The first two run the library compiled by tsc into bench/out (plain `node`, no loader).
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { parse, stringify } from 'yaml';
import { createClients } from '../src/clients.js';
import { resolveConfig } from '../src/config/index.js';
import { renderAll } from '../src/nomad/render.js';
import { readSpecFiles } from '../src/service-spec/files.js';
import { loadSet, resolveEnvironment } from '../src/service-spec/load.js';
import { stackEnv, up, type StackOptions } from '../src/stack/stack.js';
import { homedir } from 'node:os';
import { size, type Benchmark, type Figure } from './harness.js';

const COUNT = size(1000, 50);
const ROUNDS = size(3, 1);
const count = COUNT.toLocaleString('en-US');
const OUT = resolve('bench/out/render');
const JS = resolve('bench/out/render-js');

/** Compile the render path (and only it) to plain JavaScript. */
function compile(): void {
  const program = ts.createProgram(['src/service-spec/files.ts', 'src/service-spec/load.ts', 'src/nomad/render.ts'], {
    outDir: JS,
    rootDir: 'src',
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    skipLibCheck: true,
    types: ['node'],
  });
  const r = program.emit();
  if (r.emitSkipped) throw new Error('bench: tsc could not compile the render path');
  // Read at run time by the escape hatch (src/nomad/raw.ts), not imported: tsc does not copy it.
  copyFileSync('src/nomad/api-schema.json', join(JS, 'nomad', 'api-schema.json'));
}

/** 1,000 renamed copies of the example services (not the `kind: external` ones: they render no job), unique in names and routes. */
async function dataset(): Promise<void> {
  await rm(OUT, { recursive: true, force: true });
  await mkdir(join(OUT, 'services'), { recursive: true });
  await mkdir(join(OUT, 'environments'), { recursive: true });
  const names = (await readdir('jobs/services')).sort();
  const sources = (await Promise.all(names.map((n) => readFile(join('jobs/services', n), 'utf8')))).filter(
    (s) => (parse(s) as { kind?: string }).kind !== 'external',
  );
  for (let i = 0; i < COUNT; i++) {
    const spec = parse(sources[i % sources.length]!) as { name: string; groups: { services?: { name?: string; routes?: { host?: string }[] }[] }[] };
    const name = `${spec.name}-${String(i).padStart(4, '0')}`;
    spec.name = name;
    spec.groups.forEach((g, gi) => {
      // A second group's services get the group's index too: two groups may name the same service (payments does).
      (g.services ?? []).forEach((s, si) => {
        s.name = gi === 0 ? `${name}-${si}` : `${name}-${gi}-${si}`;
        for (const r of s.routes ?? []) r.host = `${r.host ?? 'www'}-${i}`;
      });
    });
    await writeFile(join(OUT, 'services', `${name}.yaml`), stringify(spec));
  }
  await writeFile(
    join(OUT, 'environments', 'bench.yaml'),
    'name: bench\ndatacenters: [dc1]\nregistry: 127.0.0.1:5001\ndomain: bench.example.com\nvault_role: bench-apps\nupdate:\n  auto_promote: false\n',
  );
  const set = loadSet(await readSpecFiles([join(OUT, 'services'), join(OUT, 'environments')]));
  if (set.problems.length > 0) throw new Error(`bench: the dataset does not validate (${set.problems.length} problems)`);
  const merged = resolveEnvironment(set, 'bench').map((r) => ({ file: r.file, spec: r.spec, environment: r.environment, vaultRole: r.vaultRole }));
  await writeFile(join(OUT, 'merged.json'), JSON.stringify(merged));
}

const RENDER_ONLY = `
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { renderJob } from '${JS}/nomad/render.js';
import { renderJobHcl } from '${JS}/nomad/render-hcl.js';
const out = process.argv[1];
mkdirSync(out, { recursive: true });
const merged = JSON.parse(readFileSync('${OUT}/merged.json', 'utf8'));
const hcl = [];
const json = [];
for (const m of merged) {
  const job = renderJob({ ...m, origin: () => { throw new Error('unused'); } });
  hcl.push(renderJobHcl(job));
  json.push(JSON.stringify({ Job: job }, null, 2));
}
writeFileSync(out + '/jobs.nomad.hcl', hcl.join('\\n'));
writeFileSync(out + '/jobs.json', '[' + json.join(',\\n') + ']\\n');
process.stdout.write(JSON.stringify({ jobs: merged.length, maxRssKB: process.resourceUsage().maxRSS }));
`;

const FULL = `
import { writeFileSync, mkdirSync } from 'node:fs';
import { readSpecFiles } from '${JS}/service-spec/files.js';
import { loadSet, resolveEnvironment } from '${JS}/service-spec/load.js';
import { renderAll } from '${JS}/nomad/render.js';
const out = process.argv[1];
mkdirSync(out, { recursive: true });
const set = loadSet(await readSpecFiles(['${OUT}/services', '${OUT}/environments']));
if (set.problems.length > 0) throw new Error('invalid');
const jobs = renderAll(resolveEnvironment(set, 'bench'));
writeFileSync(out + '/jobs.nomad.hcl', jobs.map((j) => j.hcl).join('\\n'));
writeFileSync(out + '/jobs.json', '[' + jobs.map((j) => JSON.stringify({ Job: j.job }, null, 2)).join(',\\n') + ']\\n');
process.stdout.write(JSON.stringify({ jobs: jobs.length, maxRssKB: process.resourceUsage().maxRSS }));
`;

/** Run a script in a fresh `node`, timed from spawn to exit. */
function timed(script: string, out: string): Promise<{ seconds: number; jobs: number; maxRssMB: number }> {
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, out], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) return reject(new Error(`bench worker exited ${code}`));
      const r = JSON.parse(stdout) as { jobs: number; maxRssKB: number };
      resolvePromise({ seconds, jobs: r.jobs, maxRssMB: r.maxRssKB / 1024 });
    });
  });
}

/** dist/cli.js, built again when a source file is newer (as the CLI tests do). */
function cli(): string {
  const path = resolve('dist/cli.js');
  const newest = (d: string): number =>
    Math.max(...readdirSync(d, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(d, e.name)) : statSync(join(d, e.name)).mtimeMs)));
  if ((existsSync(path) ? statSync(path).mtimeMs : 0) < newest(resolve('src'))) {
    const b = spawnSync('npm', ['run', 'build'], { encoding: 'utf8' });
    if (b.status !== 0) throw new Error(`bench: npm run build failed:\n${b.stdout}${b.stderr}`);
  }
  return path;
}

/** `node dist/cli.js render` over the dataset into a fresh folder, timed from spawn to exit. */
async function timedCli(path: string): Promise<{ seconds: number; files: number }> {
  const out = join(OUT, 'out-cli');
  await rm(out, { recursive: true, force: true });
  const args = [path, 'render', '--env', 'bench', '--services', join(OUT, 'services'), '--environments', join(OUT, 'environments'), '--out', out];
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) return reject(new Error(`bench: hashiship render exited ${code}: ${stderr}`));
      resolvePromise({ seconds, files: readdirSync(out).length });
    });
  });
}

/** Nomad's /v1/jobs/parse over the same HCL outputs, one after another. */
async function nomadParse(hcl: readonly string[]): Promise<number> {
  const options: StackOptions = {
    cacheDir: process.env['HASHISHIP_CACHE'] || join(homedir(), '.cache', 'hashiship'),
    ...(process.env['HASHISHIP_STACK_DIR'] ? { stateDir: process.env['HASHISHIP_STACK_DIR'] } : {}),
  };
  await up(options);
  const nomad = createClients(resolveConfig({ env: stackEnv(options), home: '/nonexistent' })).nomad.client;
  const parse1 = (JobHCL: string) => nomad.request('jobs.parse', { method: 'POST', path: '/v1/jobs/parse', data: { JobHCL, Canonicalize: true } });
  await parse1(hcl[0]!); // connection and first-call warm-up, not measured
  const started = process.hrtime.bigint();
  for (const text of hcl) await parse1(text);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const bench: Benchmark = {
  name: 'render',
  async run() {
    compile();
    await dataset();
    const best = async (script: string, dir: string) => {
      // Best of three (one in short mode): the machine is shared; the first run also warms the file cache.
      const runs = [];
      for (let i = 0; i < ROUNDS; i++) runs.push(await timed(script, join(OUT, dir)));
      return runs.sort((a, b) => a.seconds - b.seconds)[0]!;
    };
    const render = await best(RENDER_ONLY, 'out-render');
    const full = await best(FULL, 'out-full');
    if (render.jobs !== COUNT || full.jobs !== COUNT) throw new Error('bench: not every spec was rendered');
    const path = cli();
    const cliRuns = [];
    for (let i = 0; i < ROUNDS; i++) cliRuns.push(await timedCli(path));
    const cliBest = cliRuns.sort((a, b) => a.seconds - b.seconds)[0]!;
    if (cliBest.files !== COUNT) throw new Error(`bench: hashiship render wrote ${cliBest.files} files for ${COUNT} specs`);
    const set = loadSet(await readSpecFiles([join(OUT, 'services'), join(OUT, 'environments')]));
    const hcl = renderAll(resolveEnvironment(set, 'bench')).map((j) => j.hcl);
    const nomad = await nomadParse(hcl);
    const peer = { name: `nomad /v1/jobs/parse ×${COUNT}`, value: nomad };
    const figures: Figure[] = [
      { label: `render ${count} specs to HCL + JSON, one process incl. Node start-up`, value: render.seconds, unit: 's', peer, target: '< 1 s' },
      { label: 'peak memory of that process', value: render.maxRssMB, unit: 'MB', target: '< 250 MB' },
      { label: `validate + render ${count} YAML files (the CLI path), one process incl. start-up`, value: full.seconds, unit: 's', peer },
      { label: 'peak memory of that process', value: full.maxRssMB, unit: 'MB', target: '< 250 MB' },
      {
        label: `node dist/cli.js render --env bench --out DIR: ${count} YAML files → ${count} job files, incl. Node start-up`,
        value: cliBest.seconds,
        unit: 's',
        peer,
        target: '< 1 s',
      },
    ];
    return figures;
  },
};
export default bench;
