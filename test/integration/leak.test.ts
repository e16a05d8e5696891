/**
 * Leak test. A unique random canary is stored in the real Vault for a service
 * spec written into a temp dir; the real CLI then runs validate, render (stdout
 * and files), secrets policy/check, plan, deploy and status, each with `--json`
 * (render: `--format json`) and debug logging (`HASHISHIP_LOG=debug`, plus
 * `--events ndjson` where a command has events). The deployed raw_exec job reads
 * the secret at run time through its `vault {}` + `template {}` blocks and serves
 * it over HTTP; through Fabio (:9999) the test gets the canary back — the one
 * place it must appear, which proves the run is not vacuous.
 *
 * Then every captured stdout/stderr, every generated file, the job as Nomad
 * stores it (job, versions, allocations, evaluations, deployments, task logs),
 * Consul KV from the root and the service's health entries (check output), and
 * the stack's log files are searched for the canary (raw and base64): it appears
 * nowhere. The same search finds it in Vault's own answer, so the search works.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { stateDirOf } from '../../src/stack/stack.js';
import { useStack, type TestStack } from '../helpers/stack.js';
import { cli, specFolder, vaultApi } from '../helpers/vault.js';

const run = randomBytes(3).toString('hex');
const svc = `hs-leak-${run}`;
const envName = `leak${run}`;
const secretPath = `secret/data/${svc}/app`;
const canary = `canary-${randomBytes(16).toString('hex')}`;
const prefix = `/${svc}`;

/** Where the canary shows up in `text`, raw or base64-encoded. */
function leaks(text: string): string[] {
  const b64 = Buffer.from(canary).toString('base64');
  const found: string[] = [];
  for (const needle of [canary, b64, b64.slice(0, -4)]) {
    const i = text.indexOf(needle);
    if (i >= 0) found.push(`…${text.slice(Math.max(0, i - 80), i + needle.length + 40)}…`);
  }
  return found;
}

/**
 * Every regular file under `dir` (recursively), as text. Symbolic links are not followed:
 * a java or exec task's chroot holds bin/X11 → . (a loop), and a link's target is searched
 * where it lives; `descend` says which folders to enter. The stack keeps running while this walks it: a file or folder removed
 * meanwhile (an allocation of another job being collected) is skipped, since it no longer
 * holds anything; any other error fails the test.
 */
function filesUnder(dir: string, accept: (path: string) => boolean = () => true, descend: (dir: string) => boolean = () => true): [string, string][] {
  const out: [string, string][] = [];
  const gone = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if (gone(err)) return out;
    throw err;
  }
  for (const name of names) {
    const p = join(dir, name);
    try {
      const st = lstatSync(p);
      if (st.isDirectory()) {
        if (descend(p)) out.push(...filesUnder(p, accept, descend));
      } else if (st.isFile() && accept(p)) out.push([p, readFileSync(p, 'latin1')]);
    } catch (err) {
      if (!gone(err)) throw err;
    }
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('leak test: a Vault canary appears nowhere but in the served body (real stack)', function () {
  this.timeout(300_000);
  let stack: TestStack;
  let dir: string;
  let envFlags: string[];
  let vault: ReturnType<typeof vaultApi>;
  /** Everything searched: where it came from → its text. */
  const corpus = new Map<string, string>();

  before(async () => {
    stack = await useStack();
    vault = vaultApi(stack);
    ({ dir, flags: envFlags } = await specFolder(
      'hashiship-leak-',
      {
        name: svc,
        yaml: [
          `name: ${svc}`,
          'groups:',
          '  - name: web',
          '    count: 1',
          '    ports:',
          '      http: {}',
          '    update:',
          '      max_parallel: 1',
          '      min_healthy_time: 1s',
          '      healthy_deadline: 30s',
          '      progress_deadline: 60s',
          '      auto_revert: false',
          '    restart:',
          '      attempts: 0',
          '      interval: 1m',
          '      delay: 1s',
          '      mode: fail',
          '    services:',
          '      - port: http',
          '        checks:',
          '          - type: http',
          // The directory listing (file names only): a check on the secret file itself
          // would copy its value into Consul's check output.
          '            path: /',
          '            interval: 1s',
          '            timeout: 1s',
          '        routes:',
          `          - path: ${prefix}`,
          `            strip: ${prefix}`,
          '    tasks:',
          '      - name: web',
          '        driver: raw_exec',
          '        command: /usr/bin/python3',
          '        args: ["-m", "http.server", "${NOMAD_PORT_http}", "--bind", "127.0.0.1", "--directory", "${NOMAD_SECRETS_DIR}"]',
          '        kill_timeout: 2s',
          '        secrets:',
          '          - file: secrets/canary.txt',
          `            path: ${secretPath}`,
          '            key: value',
          '        resources:',
          '          cpu: 50',
          '          memory: 64',
        ],
      },
      { name: envName, yaml: [`name: ${envName}`, 'datacenters: ["*"]', 'services:', `  ${svc}:`, `    vault_role: ${svc}`] },
    ));
    expect((await vault('POST', secretPath, { data: { value: canary } })).status).to.equal(200);
  });

  after(async () => {
    if (stack === undefined) return;
    await fetch(`${stack.config.nomad.address}/v1/job/${svc}?purge=true`, { method: 'DELETE' });
    await vault('DELETE', `secret/metadata/${svc}/app`);
    await vault('DELETE', `sys/policies/acl/hashiship-${envName}-${svc}`);
    await vault('DELETE', `auth/jwt-nomad/role/${svc}`);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('runs every command, serves the canary through Fabio, and finds it nowhere else', async () => {
    const env = { ...stack.env, HASHISHIP_LOG: 'debug' };
    const outDir = join(dir, 'out');
    const planFile = join(dir, 'plan.json');
    const steps: [string, string[], number][] = [
      ['validate', ['validate', '--json', join(dir, 'services'), join(dir, 'environments')], 0],
      ['render hcl', ['render', ...envFlags], 0],
      ['render json', ['render', '--format', 'json', ...envFlags], 0],
      ['render --out hcl', ['render', '--out', join(outDir, 'hcl'), ...envFlags], 0],
      ['render --out json', ['render', '--out', join(outDir, 'json'), '--format', 'json', ...envFlags], 0],
      ['secrets policy --apply', ['secrets', 'policy', '--apply', '--json', ...envFlags], 0],
      ['secrets check', ['secrets', 'check', '--json', ...envFlags], 0],
      ['plan', ['plan', '--json', '--events', 'ndjson', '--out', planFile, ...envFlags], 1],
      ['plan (text, debug lines)', ['plan', ...envFlags], 1],
      ['deploy', ['deploy', '--json', '--events', 'ndjson', ...envFlags], 0],
      ['status', ['status', '--json', '--env', envName], 0],
    ];
    for (const [name, args, code] of steps) {
      const r = await cli(args, env, 240_000);
      expect(r.code, `${name}: ${r.stderr}`).to.equal(code);
      corpus.set(`${name}: stdout`, r.stdout);
      corpus.set(`${name}: stderr`, r.stderr);
    }
    // Debug logging really was on: the pre-flight and the Vault login reported in debug events.
    expect(corpus.get('plan: stderr')).to.contain('"kind":"debug"');
    expect(corpus.get('plan (text, debug lines): stderr')).to.match(/^debug {4}secrets pre-flight: 1 references of 1 services present and readable/m);
    expect(corpus.get('plan (text, debug lines): stderr')).to.match(/^debug {4}vault \(token from VAULT_TOKEN\): token ttl \d+ s/m);
    expect(corpus.get('deploy: stdout')).to.contain('"outcome": "successful"');

    // The job reads the secret at run time; Fabio serves it: the one place it must appear.
    let body = '';
    const deadline = Date.now() + 60_000;
    while (body !== canary) {
      if (Date.now() > deadline) throw new Error(`Fabio never served the canary at ${prefix}/canary.txt (last body: ${body.slice(0, 200)})`);
      const res = await fetch(`http://127.0.0.1:9999${prefix}/canary.txt`).catch(() => undefined);
      body = res?.ok === true ? await res.text() : '';
      if (body !== canary) await sleep(500);
    }
    expect(body).to.equal(canary);

    // Generated files.
    for (const [p, text] of filesUnder(outDir)) corpus.set(`file ${p}`, text);
    corpus.set(`file ${planFile}`, readFileSync(planFile, 'utf8'));
    expect([...corpus.keys()].filter((k) => k.startsWith('file ')).length).to.be.at.least(3);

    // The job as Nomad stores it, and everything around it.
    const nomad = async (path: string): Promise<string> => {
      const res = await fetch(`${stack.config.nomad.address}${path}`);
      expect(res.status, path).to.equal(200);
      return res.text();
    };
    const job = await nomad(`/v1/job/${svc}`);
    expect(job).to.contain(secretPath); // the template names the path, not the value
    corpus.set('nomad job', job);
    corpus.set('nomad job versions', await nomad(`/v1/job/${svc}/versions?diffs=true`));
    corpus.set('nomad job evaluations', await nomad(`/v1/job/${svc}/evaluations`));
    corpus.set('nomad job deployments', await nomad(`/v1/job/${svc}/deployments`));
    const allocs = JSON.parse(await nomad(`/v1/job/${svc}/allocations`)) as { ID: string }[];
    expect(allocs.length).to.be.at.least(1);
    for (const a of allocs) {
      corpus.set(`nomad allocation ${a.ID}`, await nomad(`/v1/allocation/${a.ID}`));
      for (const type of ['stdout', 'stderr']) {
        corpus.set(`task log ${a.ID} ${type}`, await nomad(`/v1/client/fs/logs/${a.ID}?task=web&type=${type}&plain=true&origin=start`));
      }
    }

    // Consul: every KV pair from the root (values decoded), and the service's health (check output).
    const kvRes = await fetch(`${stack.config.consul.address}/v1/kv/?recurse=true`);
    const pairs = kvRes.status === 404 ? [] : ((await kvRes.json()) as { Key: string; Value: string | null }[]);
    corpus.set('consul kv', pairs.map((p) => `${p.Key}=${p.Value === null ? '' : Buffer.from(p.Value, 'base64').toString('latin1')}`).join('\n'));
    const health = await fetch(`${stack.config.consul.address}/v1/health/service/${svc}`);
    const healthText = await health.text();
    expect(healthText).to.contain('passing');
    corpus.set('consul health', healthText);

    // The stack's log files (not its data directories, which hold the task's rendered secret by design).
    const stateDir = stateDirOf(stack.options);
    for (const [p, text] of [
      ...filesUnder(
        stateDir,
        (f) => f.endsWith('.log') && !f.includes('/alloc'),
        (d) => !d.includes('/alloc'),
      ),
      ...filesUnder(join(stack.options.cacheDir, 'logs')),
    ]) {
      corpus.set(`log ${p}`, text);
    }
    expect([...corpus.keys()].some((k) => k.endsWith('nomad.log'))).to.equal(true);

    const found = [...corpus.entries()].flatMap(([where, text]) => leaks(text).map((l) => `${where}: ${l}`));
    expect(found, `the canary leaked:\n${found.join('\n')}`).to.deep.equal([]);

    // The search is able to find it: Vault's own answer holds it, raw.
    const fromVault = await (await vault('GET', secretPath)).text();
    expect(leaks(fromVault)).to.have.length(1);
    expect(leaks(`x ${Buffer.from(canary).toString('base64')} y`)).to.have.length.at.least(1);
    process.stdout.write(`      searched ${corpus.size} sources, ${[...corpus.values()].reduce((n, t) => n + t.length, 0)} characters\n`);
  });
});
