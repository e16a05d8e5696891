/**
 * The command shell through `main(argv)`: server flags on every command that talks
 * to a server, input checked before the first request, file-system errors as bad
 * input, and redaction on every printing path. Every server address points at a
 * closed port (127.0.0.1:1), so an input error found after contacting a server
 * would show as exit 2 instead of 1.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProgram, main, reportError } from '../../src/cli.js';
import type { Session } from '../../src/commands/runner.js';
import { resolveConfig } from '../../src/config/index.js';
import { ServerError } from '../../src/errors.js';
import { OutputRedactor, redactorFromEnv } from '../../src/redact.js';

const closed = 'http://127.0.0.1:1';
let home: string;

/** A clean environment: no server variables of the machine, no ~/.vault-token. */
function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env['PATH'] ?? '', HOME: home, ...extra };
}

/** Every server at a closed port. */
function closedEnv(extra: Record<string, string> = {}): Record<string, string> {
  return baseEnv({
    NOMAD_ADDR: closed,
    CONSUL_HTTP_ADDR: '127.0.0.1:1',
    VAULT_ADDR: closed,
    VAULT_TOKEN: 'root-token-for-tests',
    HASHISHIP_FABIO_ADDR: closed,
    HASHISHIP_FABIO_PROXY: closed,
    ...extra,
  });
}

async function cli(argv: string[], env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const session: Session = { env, stdout: (s) => void (out += s), stderr: (s) => void (err += s), redactor: redactorFromEnv(env) };
  const code = await main(argv, session);
  return { code, out, err };
}

before(() => {
  home = mkdtempSync(join(tmpdir(), 'hashiship-cli-home-'));
});
after(() => rmSync(home, { recursive: true, force: true }));

/** Every command that talks to a server, with the arguments it needs and its server flags. */
const serverCommands: { argv: string[]; flags: string[]; errorCode?: number }[] = [
  { argv: ['status', '--env', 'qa'], flags: ['--nomad-addr', '--consul-addr'] },
  { argv: ['plan', '--env', 'qa'], flags: ['--nomad-addr', '--consul-addr', '--vault-addr'], errorCode: 255 },
  { argv: ['deploy', '--env', 'qa'], flags: ['--nomad-addr', '--consul-addr', '--vault-addr', '--fabio'] },
  { argv: ['promote-canaries', '--env', 'qa'], flags: ['--nomad-addr', '--consul-addr'] },
  { argv: ['routes', '--env', 'qa'], flags: ['--consul-addr', '--fabio'] },
  { argv: ['releases', '--env', 'qa'], flags: ['--consul-addr'] },
  { argv: ['register', '--env', 'qa'], flags: ['--consul-addr'] },
  { argv: ['kv', 'sync', '--env', 'qa'], flags: ['--consul-addr'] },
  { argv: ['maintenance', 'on', '--node'], flags: ['--consul-addr'] },
  { argv: ['secrets', 'check', '--env', 'qa'], flags: ['--vault-addr', '--consul-addr'] },
  { argv: ['secrets', 'get', 'secret/x'], flags: ['--vault-addr'] },
  { argv: ['promote', '--from', 'qa', '--to', 'production'], flags: ['--nomad-addr', '--consul-addr', '--vault-addr', '--fabio', '--fabio-proxy'] },
  { argv: ['rollback', '--env', 'qa', 'web'], flags: ['--nomad-addr', '--consul-addr', '--fabio'] },
  { argv: ['image', 'digest', '127.0.0.1:1/team/app:1'], flags: ['--vault-addr'] },
  { argv: ['agent-config', 'prometheus-targets', '--targets-dir', '/nonexistent-hashiship'], flags: ['--consul-addr'] },
  { argv: ['import', '/nonexistent-hashiship/job.nomad.hcl'], flags: ['--nomad-addr'] },
];

describe('cli: server flags on every command that talks to a server', function () {
  this.timeout(60_000);

  for (const c of serverCommands) {
    for (const flag of c.flags) {
      it(`${c.argv.slice(0, 2).join(' ')} ${flag} is read (a bad value is exit 1 naming it, before any request)`, async () => {
        const r = await cli([...c.argv, flag, 'ftp://x'], closedEnv());
        expect(r.code, r.err).to.equal(c.errorCode ?? 1);
        expect(r.err).to.include(`${flag}="ftp://x"`);
      });
    }
  }

  it('status --nomad-addr reports that address unreachable (exit 2), not the default one', async () => {
    const r = await cli(['status', '--env', 'qa', '--nomad-addr', 'http://127.0.0.1:2'], baseEnv());
    expect(r.code, r.err).to.equal(2);
    expect(r.err).to.include('Address: http://127.0.0.1:2');
    expect(r.err).not.to.include('4646');
  });

  it('releases --consul-addr, secrets get --vault-addr: the flag wins over the variable', async () => {
    const a = await cli(['releases', '--env', 'qa', '--consul-addr', '127.0.0.1:2'], closedEnv());
    expect(a.code, a.err).to.equal(2);
    expect(a.err).to.include('127.0.0.1:2');
    const b = await cli(['secrets', 'get', 'secret/x', '--vault-addr', 'http://127.0.0.1:2'], closedEnv());
    expect(b.code, b.err).to.equal(2);
    expect(b.err).to.include('127.0.0.1:2');
  });

  it('a server flag on a command that talks to no server is refused by name', async () => {
    const r = await cli(['validate', '--nomad-addr', closed], closedEnv());
    expect(r.code).to.equal(1);
    expect(r.err).to.include("unknown option '--nomad-addr'");
    const a = await cli(['agent-config', 'server', '--join', '10.0.0.1', '--consul-addr', '127.0.0.1:1'], closedEnv());
    expect(a.code).to.equal(1);
    expect(a.err).to.include('--consul-addr: does not apply');
  });

  it('a token given as a flag is redacted wherever it shows', async () => {
    const token = 'flag-token-5f0c1d2e';
    const r = await cli(['status', '--env', 'qa', '--nomad-token', token, '--nomad-addr', `http://127.0.0.1:1/${token}`], baseEnv());
    expect(r.code, r.err).to.equal(2);
    expect(r.err).to.include('<redacted>');
    expect(r.err).not.to.include(token);
  });
});

describe('cli: every input is checked before the first request', function () {
  this.timeout(60_000);
  const cases: { name: string; argv: string[]; env?: Record<string, string>; names: string[] }[] = [
    {
      name: '--steps that do not end at 100',
      argv: ['promote', '--from', 'qa', '--to', 'production', '--steps', '10,50'],
      names: ['--steps="10,50"', 'the last step must be 100'],
    },
    { name: '--steps that do not increase', argv: ['promote', '--from', 'qa', '--to', 'production', '--steps', '50,10,100'], names: ['--steps', 'increase'] },
    { name: '--events other than ndjson', argv: ['status', '--env', 'qa', '--events', 'json'], names: ["unknown option '--events'"] },
    { name: 'deploy --events json', argv: ['deploy', '--env', 'qa', '--events', 'json'], names: ['--events="json": expected ndjson'] },
    { name: 'dev --events json', argv: ['dev', '--events', 'json', 'status'], names: ['--events="json": expected ndjson'] },
    { name: '--fabio that is not a URL', argv: ['routes', '--env', 'qa', '--fabio', '127.0.0.1:9998'], names: ['--fabio="127.0.0.1:9998"', 'not a URL'] },
    {
      name: 'HASHISHIP_FABIO_ADDR that is not a URL',
      argv: ['routes', '--env', 'qa'],
      env: { HASHISHIP_FABIO_ADDR: 'fabio:9998' },
      names: ['HASHISHIP_FABIO_ADDR="fabio:9998"'],
    },
    {
      name: 'HASHISHIP_FABIO_PROXY that is not a URL',
      argv: ['promote', '--from', 'qa', '--to', 'production'],
      env: { HASHISHIP_FABIO_PROXY: 'x' },
      names: ['HASHISHIP_FABIO_PROXY="x"'],
    },
    {
      name: 'HASHISHIP_LOG other than debug or info (status)',
      argv: ['status', '--env', 'qa'],
      env: { HASHISHIP_LOG: 'loud' },
      names: ['HASHISHIP_LOG="loud": expected debug or info'],
    },
    { name: 'HASHISHIP_LOG on a command without servers', argv: ['validate'], env: { HASHISHIP_LOG: 'trace' }, names: ['HASHISHIP_LOG="trace"'] },
    {
      name: 'VAULT_ROLE_ID with VAULT_ROLE_ID_FILE, even with VAULT_TOKEN set',
      argv: ['secrets', 'check', '--env', 'qa'],
      env: { VAULT_ROLE_ID: 'r', VAULT_ROLE_ID_FILE: '/etc/hostname' },
      names: ['set both VAULT_ROLE_ID and VAULT_ROLE_ID_FILE'],
    },
    {
      name: 'VAULT_SECRET_ID with its _FILE',
      argv: ['status', '--env', 'qa'],
      env: { VAULT_SECRET_ID: 's', VAULT_SECRET_ID_FILE: '/etc/hostname' },
      names: ['set both VAULT_SECRET_ID and VAULT_SECRET_ID_FILE'],
    },
    {
      name: 'VAULT_JWT with its _FILE',
      argv: ['status', '--env', 'qa'],
      env: { VAULT_JWT: 'j', VAULT_JWT_FILE: '/etc/hostname' },
      names: ['set both VAULT_JWT and VAULT_JWT_FILE'],
    },
    { name: 'a repeated --env', argv: ['status', '--env', 'qa', '--env', 'production'], names: ['--env: given twice ("qa", "production")'] },
    { name: 'a repeated --env on deploy', argv: ['deploy', '--env', 'qa', '--env', 'production'], names: ['--env: given twice'] },
    { name: 'a repeated --from on promote', argv: ['promote', '--from', 'qa', '--from', 'production', '--to', 'production'], names: ['--from: given twice'] },
    {
      name: 'HASHISHIP_BUILD with flags of a plain deploy',
      argv: ['deploy', '--env', 'qa', '--plan', 'plan.json', '--until', 'promotion-ready', '--job', 'x.json'],
      env: { HASHISHIP_BUILD: '7' },
      names: ['--plan: does not apply: HASHISHIP_BUILD="7" makes this a release deploy', '--until: does not apply', '--job: does not apply'],
    },
    {
      name: '--image with --plan',
      argv: ['deploy', '--env', 'qa', '--image', 'web=1', '--plan', 'plan.json'],
      names: ['--plan: does not apply: --image makes this a release deploy'],
    },
    {
      name: '--build with --until',
      argv: ['deploy', '--env', 'qa', '--build', '9', '--until', 'successful'],
      names: ['--until: does not apply: --build makes this a release deploy'],
    },
    {
      name: 'HASHISHIP_BUILD that cannot be an image tag (deploy)',
      argv: ['deploy', '--env', 'qa'],
      env: { HASHISHIP_BUILD: '7\u001b[2J' },
      names: ['HASHISHIP_BUILD="7\\u001b[2J": not a build number'],
    },
    {
      name: 'promote --build with a slash',
      argv: ['promote', '--from', 'qa', '--to', 'production', '--build', 'x/y'],
      names: ['--build="x/y": not a build number'],
    },
    // Regression: these names reached Consul KV paths (`hashiship/releases/qa/../x`) and Nomad before being checked.
    { name: 'releases of a service named ../x', argv: ['releases', '--env', 'qa', '../x'], names: ['"../x": not a service name'] },
    { name: 'rollback in an environment named ../x', argv: ['rollback', '--env', '../x', 'web'], names: ['--env="../x": not an environment name'] },
    { name: 'status of a job with an escape sequence', argv: ['status', '--env', 'qa', 'w\u001b[2Jb'], names: ['"w\\u001b[2Jb": not a job name'] },
    { name: 'promote-canaries in an environment with a slash', argv: ['promote-canaries', '--env', 'q/a'], names: ['--env="q/a": not an environment name'] },
    { name: 'secrets get of a path with ..', argv: ['secrets', 'get', 'secret/../sys/seal'], names: ['"secret/../sys/seal": not a secret path'] },
    {
      name: 'secrets put to a path with a line break',
      argv: ['secrets', 'put', 'secret/x\ny', '--from-file', '/nonexistent/v.json'],
      names: ['"secret/x\\ny": not a secret path'],
    },
    {
      name: 'secrets get --mount with ..',
      argv: ['secrets', 'get', 'secret/x', '--mount', '../sys:2'],
      names: ['--mount="../sys:2": expected <mount path>:<1|2>'],
    },
    {
      name: 'secrets put --cas beyond a version number',
      argv: ['secrets', 'put', 'secret/x', '--from-file', 'package.json', '--cas', '99999999999999999999999'],
      names: ['--cas="99999999999999999999999": expected a version number'],
    },
    { name: '--commit on a plain deploy', argv: ['deploy', '--env', 'qa', '--commit', 'abc'], names: ['--commit: does not apply'] },
    {
      name: 'dev cluster up --servers that is not a count',
      argv: ['dev', 'cluster', 'up', '--servers', 'x'],
      names: ['--servers="x": expected a whole number from 1 to 9'],
    },
    { name: 'promote into itself', argv: ['promote', '--from', 'qa', '--to', 'qa'], names: ['--to: promoting qa into itself'] },
    // Regression: any positive integer was taken, 3 Nomad blocking queries per job beyond Nomad's 100 connections per client.
    {
      name: 'deploy --parallel beyond 32',
      argv: ['deploy', '--env', 'qa', '--parallel', '99999999999'],
      names: ['--parallel="99999999999": expected an integer from 1 to 32'],
    },
    { name: 'deploy --parallel 33', argv: ['deploy', '--env', 'qa', '--parallel', '33'], names: ['--parallel="33": expected an integer from 1 to 32'] },
    { name: 'deploy --parallel 1e3', argv: ['deploy', '--env', 'qa', '--parallel', '1e3'], names: ['--parallel="1e3": expected an integer from 1 to 32'] },
    {
      name: 'release deploy --parallel beyond 32',
      argv: ['deploy', '--env', 'qa', '--image', 'web=1', '--parallel', '64'],
      names: ['--parallel="64": expected an integer from 1 to 32'],
    },
    {
      name: 'promote-canaries --parallel 0',
      argv: ['promote-canaries', '--env', 'qa', '--parallel', '0'],
      names: ['--parallel="0": expected an integer from 1 to 32'],
    },
    {
      name: 'promote-canaries --parallel beyond 32',
      argv: ['promote-canaries', '--env', 'qa', '--parallel', '1000'],
      names: ['--parallel="1000": expected an integer from 1 to 32'],
    },
  ];
  for (const c of cases) {
    it(`${c.name}: exit 1 naming it`, async () => {
      const r = await cli(c.argv, closedEnv(c.env));
      expect(r.code, r.err).to.equal(1);
      for (const n of c.names) expect(r.err).to.include(n);
      expect(r.err).not.to.include('127.0.0.1:1'); // nothing was contacted
    });
  }

  it('plan keeps exit 255 for bad input (1 means "changes")', async () => {
    const r = await cli(['plan', '--env', 'qa', '--events', 'yaml'], closedEnv());
    expect(r.code).to.equal(255);
    expect(r.err).to.include('--events="yaml"');
  });
});

describe('cli: file-system errors are bad input naming the path', function () {
  this.timeout(30_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hashiship-cli-fs-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('render --out naming a file: exit 1 naming --out, the file untouched', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'keep');
    const r = await cli(['render', '--env', 'qa', '--out', file], closedEnv());
    expect(r.code, r.err).to.equal(1);
    expect(r.err).to.include(`--out="${file}": is a file; give a folder`);
  });

  it('plan --out naming a directory is refused before any request (255, naming --out)', async () => {
    const r = await cli(['plan', '--env', 'qa', '--out', dir], closedEnv());
    expect(r.code, r.err).to.equal(255);
    expect(r.err).to.include(`--out="${dir}": is a directory`);
    expect(r.err).not.to.include('127.0.0.1:1');
  });

  // Regression: `--out ''` (an unset shell variable) was the current folder for import, an ENOENT for render, and
  // for plan, like a folder that does not exist, an error only after every server had been asked.
  it('an empty --out, or plan --out in a missing folder, is refused by name before any request', async () => {
    const cases: [string[], number, string][] = [
      [['render', '--env', 'qa', '--out', ''], 1, '--out="": empty (expected a folder; is a shell variable unset?)'],
      [['plan', '--env', 'qa', '--out', ''], 255, '--out="": empty (expected a file; is a shell variable unset?)'],
      [['import', 'job.json', '--out', ''], 1, '--out="": empty (expected a folder; is a shell variable unset?)'],
      [['agent-config', 'server', '--join', '10.0.0.1', '--out', ''], 1, '--out="": empty'],
      [
        ['plan', '--env', 'qa', '--out', join(dir, 'missing', 'plan.json')],
        255,
        `--out="${join(dir, 'missing', 'plan.json')}": the folder "${join(dir, 'missing')}" does not exist`,
      ],
    ];
    for (const [argv, code, message] of cases) {
      const r = await cli(argv, closedEnv());
      expect(r.code, r.err).to.equal(code);
      expect(r.err).to.include(message);
      expect(r.err).not.to.include('127.0.0.1:1');
    }
  });

  it('import checks --out and --env before Nomad parses anything', async () => {
    const file = join(dir, 'import-out-file');
    writeFileSync(file, '');
    const out = await cli(['import', 'job.json', '--out', file], closedEnv());
    expect(out.code, out.err).to.equal(1);
    expect(out.err).to.include(`--out="${file}": exists and is not a directory`);
    const env = await cli(['import', 'job.json', '--env', '../x', '--out', dir], closedEnv());
    expect(env.code, env.err).to.equal(1);
    expect(env.err).to.include('--env="../x": not an environment name');
  });

  // Regression: each of these hung on a FIFO (and read /dev/zero up to 600 MB) instead of naming the flag.
  it('deploy --plan, plan --job and secrets put --from-file refuse a FIFO or a device at once, naming it', async function () {
    this.timeout(10_000);
    const fifo = join(dir, 'input.json');
    execFileSync('mkfifo', [fifo]);
    const cases: [string[], number, string][] = [
      [['deploy', '--env', 'qa', '--plan', fifo], 1, `--plan="${fifo}": is a FIFO, not a regular file`],
      [['plan', '--env', 'qa', '--job', fifo], 255, `${fifo}: is a FIFO, not a regular file`],
      [['deploy', '--env', 'qa', '--job', '/dev/zero'], 1, '/dev/zero: is a device, not a regular file'],
      [['secrets', 'put', 'secret/x', '--from-file', fifo], 1, `--from-file="${fifo}": is a FIFO, not a regular file`],
    ];
    for (const [argv, code, message] of cases) {
      const r = await cli(argv, closedEnv());
      expect(r.code, r.err).to.equal(code);
      expect(r.err).to.include(message);
      expect(r.err).not.to.include('127.0.0.1:1');
    }
  });

  it('agent-config --out naming a file: exit 1 naming --out', async () => {
    const file = join(dir, 'b-file');
    writeFileSync(file, '');
    const r = await cli(['agent-config', 'server', '--join', '10.0.0.1', '--out', file], closedEnv());
    expect(r.code, r.err).to.equal(1);
    expect(r.err).to.include('--out=');
  });

  it('a symlink loop given as a path: exit 1 naming it, not "internal" exit 2', async () => {
    const loop = join(dir, 'loop.yaml');
    symlinkSync(loop, loop);
    const r = await cli(['validate', loop], closedEnv());
    expect(r.code, r.err).to.equal(1);
    expect(r.err).to.include(loop);
    expect(r.err).not.to.include('internal');
  });

  it('a path through a file (ENOTDIR): exit 1 naming it', async () => {
    mkdirSync(join(dir, 'd'));
    writeFileSync(join(dir, 'd', 'f'), '');
    const r = await cli(['render', '--env', 'qa', '--services', join(dir, 'd', 'f', 'services')], closedEnv());
    expect(r.code, r.err).to.equal(1);
    expect(r.err).to.include(join(dir, 'd', 'f'));
  });

  it('render, plan and deploy name the files they skip in the services folder', async () => {
    // Regression: `web.YAML` beside a real spec was silently ignored by every command but validate.
    const services = join(dir, 'skip', 'services');
    const environments = join(dir, 'skip', 'environments');
    mkdirSync(services, { recursive: true });
    mkdirSync(environments);
    writeFileSync(
      join(services, 'api.yaml'),
      'name: api\ngroups:\n  - name: api\n    tasks:\n      - name: api\n        driver: raw_exec\n        command: /bin/true\n',
    );
    writeFileSync(join(services, 'web.YAML'), 'name: web\n');
    writeFileSync(join(environments, 'qa.yaml'), 'name: qa\n');
    const paths = ['--services', services, '--environments', environments];
    const skipped = new RegExp(
      `skipped +${join(services, 'web.YAML').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the extension must be \\.yaml or \\.yml in lower case`,
    );
    const render = await cli(['render', '--env', 'qa', ...paths], closedEnv());
    expect(render.code, render.err).to.equal(0);
    expect(render.err).to.match(skipped);
    expect(render.out).to.include('job "api"');
    const plan = await cli(['plan', '--env', 'qa', ...paths], closedEnv());
    expect(plan.err).to.match(skipped);
    expect(plan.code).to.equal(255);
    const deploy = await cli(['deploy', '--env', 'qa', ...paths], closedEnv());
    expect(deploy.err).to.match(skipped);
  });

  // Regression: progress lines printed a skipped file's name raw, escape sequence and all.
  it('progress lines echo names escaped', async () => {
    const services = join(dir, 'esc', 'services');
    mkdirSync(services, { recursive: true });
    writeFileSync(
      join(services, 'api.yaml'),
      'name: api\ngroups:\n  - name: api\n    tasks:\n      - name: api\n        driver: raw_exec\n        command: /bin/true\n',
    );
    writeFileSync(join(services, 'w\u001b[2J.YAML'), '');
    mkdirSync(join(dir, 'esc', 'environments'));
    writeFileSync(join(dir, 'esc', 'environments', 'qa.yaml'), 'name: qa\n');
    const r = await cli(['render', '--env', 'qa', '--services', services, '--environments', join(dir, 'esc', 'environments')], closedEnv());
    expect(r.code, r.err).to.equal(0);
    expect(r.err).to.include('w\\u001b[2J.YAML');
    expect(r.err).not.to.include('\u001b');
  });

  it('an unexpected error is exit 70 "internal error", redacted, never exit 2', () => {
    let out = '';
    const code = reportError(
      new Error('boom near hvs.CAESIabcdefghijklmnopqrstuvwxyz and s3cret-known'),
      (s) => (out += s),
      new OutputRedactor(['s3cret-known']),
    );
    expect(code).to.equal(70);
    expect(out).to.match(/^Error: internal error: boom/);
    expect(out).to.include('bug in hashiship');
    expect(out).not.to.include('hvs.CAES');
    expect(out).not.to.include('s3cret-known');
  });

  // Regression: a server error echoing an operand printed its escape sequence raw (`kv.get hashiship/releases/qa/w<ESC>[2Jb`).
  it('an error echoing a control character or a bidi override prints it escaped', () => {
    let out = '';
    const code = reportError(new ServerError('consul', 'kv.get a/w\u001b[2Jb', 'http://127.0.0.1:1', 'cannot connect\u202e'), (s) => (out += s));
    expect(code).to.equal(2);
    expect(out).to.equal('Error: consul: kv.get a/w\\u001b[2Jb: cannot connect\\u202e\n  Address: http://127.0.0.1:1\n');
  });

  it('a raw ENOENT from the library is exit 1 naming the path', () => {
    let out = '';
    const e = Object.assign(new Error("ENOENT: no such file or directory, open '/x/y'"), { code: 'ENOENT', path: '/x/y', syscall: 'open' });
    expect(reportError(e, (s) => (out += s))).to.equal(1);
    expect(out).to.equal('Error: "/x/y": no such file or directory (open)\n');
  });
});

describe('cli: smaller untruths', function () {
  this.timeout(30_000);

  it('an unknown command followed by --help is an error, not the main help with exit 0', async () => {
    const r = await cli(['no-such-verb', '--help'], baseEnv());
    expect(r.code).to.equal(1);
    expect(r.err).to.include("unknown command 'no-such-verb'");
    const d = await cli(['dev', 'no-such-verb', '--help'], baseEnv());
    expect(d.code).to.equal(1);
    expect(d.err).to.include("unknown command 'no-such-verb'");
  });

  // Regression: commander echoed a refused option or command raw (an escape sequence reached the terminal) and whole (100 KB).
  it('an unknown option or command is echoed escaped and cut', async () => {
    const r = await cli(['validate', '--x\u001b[2J\u202e'], baseEnv());
    expect(r.code).to.equal(1);
    expect(r.err).to.include("error: unknown option '--x\\u001b[2J\\u202e'");
    const c = await cli(['x\u001b]0;title\u0007'], baseEnv());
    expect(c.code).to.equal(1);
    expect(c.err).to.include("error: unknown command 'x\\u001b]0;title\\u0007'");
    const long = await cli(['validate', `--${'q'.repeat(100_000)}`], baseEnv());
    expect(long.code).to.equal(1);
    expect(long.err).to.include('… (');
    expect(long.err.length).to.be.below(5000);
    // eslint-disable-next-line no-control-regex -- control characters are exactly what must not be printed
    for (const e of [r.err, c.err, long.err]) expect(e).not.to.match(/[\u0000-\u0009\u000b-\u001f\u202e]/);
  });

  it('a known command with --help still prints its help and exits 0', async () => {
    const r = await cli(['status', '--help'], baseEnv());
    expect(r.code).to.equal(0);
    expect(r.out).to.include('--nomad-addr');
  });

  it('agent-config names flags, not option names (--bootstrap-expect, not bootstrapExpect)', async () => {
    const r = await cli(['agent-config', 'server', '--join', '10.0.0.1', '--bootstrap-expect', '2', '--aws-region', 'Nowhere'], baseEnv());
    expect(r.code).to.equal(1);
    expect(r.err).to.include('--bootstrap-expect: must be odd');
    expect(r.err).to.include('--aws-region: must be an AWS region');
    expect(r.err).not.to.include('bootstrapExpect');
  });

  it('the path in CONSUL_HTTP_TOKEN_FILE is shown (not a secret); a token is not', async () => {
    const r = await cli(['releases', '--env', 'qa'], closedEnv({ CONSUL_HTTP_TOKEN_FILE: '/nonexistent/token-file' }));
    expect(r.code).to.equal(1);
    expect(r.err).to.include('CONSUL_HTTP_TOKEN_FILE="/nonexistent/token-file"');
    expect(r.err).not.to.include('<redacted>');
  });

  it('dev env exports the variables hashiship reads for Fabio', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hashiship-cli-stack-'));
    try {
      const r = await cli(['dev', 'env'], baseEnv({ HASHISHIP_STACK_DIR: dir, HASHISHIP_CACHE: dir }));
      expect(r.code, r.err).to.equal(0);
      const vars = Object.fromEntries([...r.out.matchAll(/^export ([A-Z_]+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
      expect(vars).to.include.keys('HASHISHIP_FABIO_ADDR', 'HASHISHIP_FABIO_PROXY');
      expect(vars).not.to.have.any.keys('FABIO_API_ADDR', 'FABIO_ADDR');
      const config = resolveConfig({
        env: { HASHISHIP_FABIO_ADDR: vars['HASHISHIP_FABIO_ADDR']!, HASHISHIP_FABIO_PROXY: vars['HASHISHIP_FABIO_PROXY']! },
        home: dir,
      });
      expect(config.fabio).to.deep.equal({ api: 'http://127.0.0.1:9998', proxy: 'http://127.0.0.1:9999' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('loading only the verb that runs', () => {
  const session = (): Session => ({ env: baseEnv(), stdout: () => {}, stderr: () => {}, redactor: new OutputRedactor() });

  it('registers each verb alone from its own module, and every verb for help', async () => {
    const all = (await buildProgram(session())).commands.map((c) => c.name());
    expect(all).to.include.members(['dev', 'render', 'deploy', 'promote', 'import', 'kv', 'image']);
    for (const name of all) {
      const one = await buildProgram(session(), name);
      expect(
        one.commands.map((c) => c.name()),
        name,
      ).to.deep.equal([name]);
    }
    // Anything that is not a verb (an option, `help`, a typo) gets them all, for help and suggestions.
    for (const word of ['--help', 'help', 'rendr', undefined]) expect((await buildProgram(session(), word)).commands.map((c) => c.name())).to.deep.equal(all);
  });

  it('still suggests the verb meant by a typo', async () => {
    const r = await cli(['rendr', '--env', 'qa'], baseEnv());
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/Did you mean render\?/);
  });
});
