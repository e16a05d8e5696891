/**
 * Hostile and broken spec input (issue 11, "Hostile and broken input"): the corpus
 * in test/fixtures/hostile (each case with the exact problems it must produce),
 * inputs too big or too odd to commit generated here (megabyte files, FIFOs,
 * symlink loops) and the limits that bound the work. The CLI over the whole
 * corpus: test/integration/spec-hostile-cli.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { escapeText, excerpt, formatProblem, InputError } from '../../src/errors.js';
import { SpecLimits } from '../../src/service-spec/check.js';
import { decodeSpecText, readSpecFiles } from '../../src/service-spec/files.js';
import { loadSet, type SpecFile } from '../../src/service-spec/load.js';

const HOSTILE = 'test/fixtures/hostile';

/** Every problem reading and checking the given paths yields, formatted. */
async function problemsOf(paths: readonly string[]): Promise<string[]> {
  try {
    return loadSet(await readSpecFiles(paths)).problems.map(formatProblem);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return e.problems.map(formatProblem);
  }
}

const svc = (file: string, text: string): SpecFile => ({ file, text, kind: 'service' });
const lines = (files: readonly SpecFile[]): string[] => loadSet(files).problems.map(formatProblem);

const BASE = `name: web
groups:
  - name: web
    tasks:
      - name: web
        image: {repository: shop/web, tag: "1.0"}
`;
/** BASE with lines added to the task (indented 8). */
const withTask = (extra: string): string =>
  BASE +
  extra
    .split('\n')
    .map((l) => `        ${l}\n`)
    .join('');

describe('spec: hostile corpus', () => {
  const cases = readdirSync(HOSTILE).sort();

  it('has at least 60 cases, each with the messages it must produce', () => {
    expect(cases.length).to.be.at.least(60);
    for (const c of cases) expect(readFileSync(join(HOSTILE, c, 'expected.txt'), 'utf8').trim(), c).to.not.equal('');
  });

  for (const c of cases) {
    it(`${c} yields exactly its expected problems`, async () => {
      const expected = readFileSync(join(HOSTILE, c, 'expected.txt'), 'utf8')
        .split('\n')
        .filter((l) => l !== '');
      expect(await problemsOf([join(HOSTILE, c)])).to.deep.equal(expected);
    });
  }
});

describe('spec: YAML tags', () => {
  // Cases 82-84 refuse every other tag; these only restate what the plain value already is.
  it('accepts the core schema tags (`!!str 12`, `!!int 3`, `!x`)', () => {
    const set = loadSet([svc('web.yaml', withTask('env: {A: !!str 12, B: ! x}\nresources: {cpu: !!int 100}'))]);
    expect(set.problems.map(formatProblem)).to.deep.equal([]);
    expect(set.services[0]!.spec.groups[0]!.tasks[0]!.env).to.deep.equal({ A: '12', B: 'x' });
  });
});

describe('spec: limits bound the work', function () {
  this.timeout(60_000);

  // Regression: duplicate-key detection in the YAML library compared every key with
  // every other (60k keys took minutes); keys are now checked once, in a map.
  it('reads a map of 60 000 keys (linear work: no limit is hit, no problem found)', () => {
    const keys = Array.from({ length: 60_000 }, (_, i) => `K${i}: v`).join(', ');
    const text = `${BASE}        env: {${keys}}\n`;
    expect(Buffer.byteLength(text)).to.be.below(SpecLimits.fileBytes);
    const set = loadSet([svc('web.yaml', text)]);
    expect(set.problems).to.deep.equal([]);
    expect(Object.keys(set.services[0]!.spec.groups[0]!.tasks[0]!.env!)).to.have.length(60_000);
  });

  it('stops an alias bomb at the values limit, naming it', () => {
    // 3 levels of 40 aliases: 40 × 40 × 1000 = 1.6 million values from a 6 KB file.
    const text = `name: web\ngroups:\n  - &g\n    name: web\n    tasks:\n      - &t\n        name: web\n        image: {repository: shop/web, tag: "1.0"}\n        args: [${Array(1000).fill('x').join(',')}]\n${'      - *t\n'.repeat(40)}${'  - *g\n'.repeat(40)}`;
    expect(text.length).to.be.below(16_384);
    const out = lines([svc('web.yaml', text)]);
    expect(out).to.have.length(1);
    expect(out[0]).to.match(/^web\.yaml:\d+:\d+ {2}\(yaml\) {2}the file holds more than 100000 values \(each use of an alias `\*name` counts/);
  });

  it('refuses a file over 1 MiB without parsing it, in the library and on disk', async () => {
    const big = `${BASE}meta:\n  pad: "${'x'.repeat(SpecLimits.fileBytes)}"\n`;
    expect(lines([svc('web.yaml', big)])).to.deep.equal([
      `web.yaml:1:1  (file)  is ${Buffer.byteLength(big)} bytes; a spec file may hold at most 1048576 bytes (1 MiB)`,
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'hashiship-hostile-'));
    try {
      writeFileSync(join(dir, 'web.yaml'), big);
      expect(await problemsOf([dir])).to.deep.equal([
        `${join(dir, 'web.yaml')}: is ${Buffer.byteLength(big)} bytes; a spec file may hold at most 1048576 bytes (1 MiB)`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cuts a 1 MiB value echoed in a message, saying how much was left out', () => {
    const value = 'x'.repeat(1_000_000);
    const out = lines([svc('web.yaml', BASE.replace('name: web\ngroups:', `name: web\ntype: "${value}"\ngroups:`))]);
    expect(out).to.deep.equal([`web.yaml:2:7  type  \`${'x'.repeat(120)}… (999880 more bytes)\` is not one of service, batch, periodic, system, sysbatch`]);
  });

  it('refuses a variable or an argument over the exec limit (MAX_ARG_STRLEN) and a task over ARG_MAX', () => {
    const big = 'v'.repeat(131_072);
    expect(lines([svc('web.yaml', withTask(`env:\n  BLOB: "${big}"`))])).to.deep.equal([
      'web.yaml:8:17  groups[0].tasks[0].env.BLOB  `BLOB=…` is 131078 bytes; Linux refuses to start a process with a variable over 131072 bytes (MAX_ARG_STRLEN): put large data in a file (`templates`)',
    ]);
    expect(lines([svc('web.yaml', withTask(`args: ["${big}"]`))])).to.deep.equal([
      'web.yaml:7:16  groups[0].tasks[0].args[0]  the argument is 131072 bytes; Linux refuses to start a process with an argument over 131072 bytes (MAX_ARG_STRLEN)',
    ]);
    // 20 uses of one 120 KB value: each fits, together they do not.
    const each = 'v'.repeat(120_000);
    const env = Array.from({ length: 20 }, (_, i) => (i === 0 ? `V0: &big "${each}"` : `V${i}: *big`)).join('\n  ');
    const out = lines([svc('web.yaml', withTask(`env:\n  ${env}`))]);
    expect(out).to.deep.equal([
      "web.yaml:5:9  groups[0].tasks[0]  the task's arguments and variables add up to 2400090 bytes; Linux refuses to start a process with more than 2097152 (ARG_MAX)",
    ]);
  });

  it('never lets a __proto__ key reach an object prototype', () => {
    const out = lines([svc('web.yaml', withTask('env:\n  __proto__: {polluted: "yes"}'))]);
    expect(out).to.deep.equal([
      'web.yaml:8:11  groups[0].tasks[0].env.__proto__  key `__proto__` is not allowed: it names a built-in JavaScript property and would be lost',
    ]);
    expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);
  });
});

describe('spec: what hostile input must not break', () => {
  // Regression: `con.yaml`, `nul.api.yaml` were accepted, and a clone of the spec folder fails on Windows.
  it('refuses Windows device names as service, external service and environment names', () => {
    const why = 'a Windows device name (con, prn, aux, nul, com0-com9, lpt0-lpt9): its file could not be checked out on Windows; choose another name';
    const external = (name: string) => `kind: external\nname: ${name}\naddress: db.internal\nport: 5432\n`;
    const env = (file: string, name: string): SpecFile => ({ file, text: `name: ${name}\n`, kind: 'environment' });
    expect(
      lines([
        svc('services/con.yaml', BASE.replace('name: web\n', 'name: con\n')),
        svc('services/nul.api.yaml', BASE.replace('name: web\n', 'name: nul.api\n')),
        svc('services/lpt9.yaml', external('lpt9')),
        svc('services/web.yaml', BASE),
        env('environments/aux.yaml', 'aux'),
        env('environments/com1.yaml', 'com1'),
      ]),
    ).to.deep.equal([
      `environments/aux.yaml:1:7  name  \`aux\` is ${why}`,
      `environments/com1.yaml:1:7  name  \`com1\` is ${why}`,
      `services/con.yaml:1:7  name  \`con\` is ${why}`,
      `services/lpt9.yaml:2:7  name  \`lpt9\` is ${why}`,
      `services/nul.api.yaml:1:7  name  \`nul.api\` starts with \`nul\`, which is ${why}`,
    ]);
    // Names that only begin like a device are names like any other.
    expect(
      lines([
        svc('services/console.yaml', BASE.replace('name: web\n', 'name: console\n')),
        svc('services/com10.yaml', BASE.replace('name: web\n', 'name: com10\n')),
        svc('services/auxiliary.api.yaml', BASE.replace('name: web\n', 'name: auxiliary.api\n')),
        env('environments/prn2.yaml', 'prn2'),
      ]),
    ).to.deep.equal([]);
  });

  it('accepts the cron forms Nomad accepts', () => {
    for (const cron of [
      '@daily',
      '@hourly',
      '@weekly',
      '*/15 * * * *',
      '0 3 * * MON-FRI',
      '0 0 1,15 * *',
      '0 0 L * *',
      '0 0 ? * 5#3',
      '0 0 15W * *',
      '0 30 2 * * * 2030',
      '0 3 * JAN-MAR sun',
      '0 3 * * 7',
      '5/10 * * * *',
      '0 3 * * * 2030',
    ]) {
      const text = BASE.replace('name: web\ngroups:', `name: web\ntype: periodic\nperiodic:\n  cron: "${cron}"\ngroups:`);
      expect(lines([svc('web.yaml', text)]), cron).to.deep.equal([]);
    }
  });

  it('accepts values filled in at run time and names that only look close to secrets', () => {
    const text = withTask(
      [
        'env:',
        '  DB_PASSWORD: "${NOMAD_SECRETS_DIR}/db"',
        '  DB_PASSWORD_FILE: /secrets/db',
        '  DATABASE_URL: "postgres://app:{{ .Data.password }}@db:5432/app"',
        '  PUBLIC_URL: "https://shop.example.com/login?next=/"',
        '  TOKEN_TTL: 1h',
        'args: ["--token-file=/secrets/token", "--password-file", "/secrets/pw", "--user", "app"]',
        'meta:',
        '  owner: team-shop',
        'templates:',
        '  - destination: local/app.conf',
        '    data: |',
        '      {{ with secret "secret/data/web" }}password = "{{ .Data.data.password }}"{{ end }}',
        '      token_file = "/secrets/token"',
      ].join('\n'),
    );
    expect(lines([svc('web.yaml', text)])).to.deep.equal([]);
  });

  it('drops a UTF-8 byte order mark without shifting columns', () => {
    const r = decodeSpecText('web.yaml', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('name: web\n')]));
    expect(r).to.deep.equal({ text: 'name: web\n' });
    expect(lines([svc('web.yaml', '\ufeffname: Web\ngroups: []\n')])[0]).to.match(/^web\.yaml:1:7 {2}name {2}`Web` is not valid/);
  });

  it('escapes control characters and invisible code points, and cuts long text', () => {
    expect(escapeText('a\u202eb\u200bc\u001b[31m\nd\u{e0041}')).to.equal('a\\u202eb\\u200bc\\u001b[31m\\nd\\u{e0041}');
    expect(escapeText('Ω café ✓')).to.equal('Ω café ✓');
    expect(excerpt('é'.repeat(130), 120)).to.equal(`${'é'.repeat(120)}… (20 more bytes)`);
    expect(formatProblem({ at: { file: 'a\u202e.yaml', line: 1, col: 2 }, subject: 'k\u0007', message: 'm\r\n' })).to.equal(
      'a\\u202e.yaml:1:2  k\\u0007  m\\r\\n',
    );
  });
});

describe('spec: reading files and folders', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hashiship-hostile-'));
    mkdirSync(join(dir, 'services'));
    mkdirSync(join(dir, 'environments'));
    writeFileSync(join(dir, 'environments', 'qa.yaml'), 'name: qa\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('names the entries it skips, and refuses a set whose only files were skipped', async () => {
    writeFileSync(join(dir, 'services', 'api.yaml'), BASE.replace('name: web', 'name: api').replace(/- name: web/g, '- name: api'));
    writeFileSync(join(dir, 'services', 'web.YAML'), BASE);
    writeFileSync(join(dir, 'services', 'web.yml.bak'), BASE);
    writeFileSync(join(dir, 'services', 'README.md'), 'not a spec\n');
    const files = await readSpecFiles([join(dir, 'services'), join(dir, 'environments')]);
    expect(files.map((f) => f.file)).to.deep.equal([join(dir, 'services', 'api.yaml'), join(dir, 'environments', 'qa.yaml')]);
    expect(files.skipped).to.deep.equal([
      { path: join(dir, 'services', 'web.YAML'), reason: 'the extension must be .yaml or .yml in lower case' },
      { path: join(dir, 'services', 'web.yml.bak'), reason: 'the name does not end in .yaml or .yml' },
    ]);
    rmSync(join(dir, 'services', 'api.yaml'));
    expect(await problemsOf([join(dir, 'services'), join(dir, 'environments')])).to.deep.equal([
      `${join(dir, 'services')}: no service specs found (skipped: web.YAML, web.yml.bak); service specs are files named *.yaml or *.yml (validate and render accept --allow-empty for an empty set)`,
    ]);
    const empty = await readSpecFiles([join(dir, 'services'), join(dir, 'environments')], { allowEmpty: true });
    expect(empty.map((f) => f.kind)).to.deep.equal(['environment']);
  });

  it('refuses a FIFO named like a spec, given or inside a folder, without blocking; ignores one named otherwise', async () => {
    writeFileSync(join(dir, 'services', 'web.yaml'), BASE);
    execFileSync('mkfifo', [join(dir, 'services', 'api.yaml'), join(dir, 'services', 'agent.pipe'), join(dir, 'given.yaml')]);
    expect(await problemsOf([join(dir, 'services'), join(dir, 'given.yaml')])).to.deep.equal([
      `${join(dir, 'services', 'api.yaml')}: is a FIFO, not a regular file; spec files must be regular files`,
      `${join(dir, 'given.yaml')}: is a FIFO, not a regular file; spec files must be regular files`,
    ]);
    rmSync(join(dir, 'services', 'api.yaml'));
    const files = await readSpecFiles([join(dir, 'services')]);
    expect(files.map((f) => f.file)).to.deep.equal([join(dir, 'services', 'web.yaml')]);
    expect(files.skipped).to.deep.equal([]);
  });

  it('names a symlink loop, and refuses a link to a folder (a loop of folders among them)', async () => {
    writeFileSync(join(dir, 'services', 'web.yaml'), BASE);
    symlinkSync('self.yaml', join(dir, 'services', 'self.yaml'));
    symlinkSync('..', join(dir, 'services', 'up'));
    const why = 'in a spec folder only links to regular files named *.yaml or *.yml are followed';
    expect(await problemsOf([join(dir, 'services')])).to.deep.equal([
      `${join(dir, 'services', 'self.yaml')}: a symbolic link loop (the link points back to itself)`,
      `${join(dir, 'services', 'up')}: is a symbolic link to the directory ${realpathSync(dir)}; ${why}`,
    ]);
  });

  // Regression: `services/x.yaml -> /etc/shadow` was read as a spec, its lines cut into "unknown key" messages.
  it('follows a link only to a regular *.yaml or *.yml file, reading nothing from any other target', async () => {
    const why = 'in a spec folder only links to regular files named *.yaml or *.yml are followed';
    const secret = join(dir, 'shadow');
    writeFileSync(secret, 'root:$6$saltsalt$hashhashhash:19000:0:99999:7:::\n');
    mkdirSync(join(dir, 'shared'));
    writeFileSync(join(dir, 'shared', 'web.yaml'), BASE);
    writeFileSync(join(dir, 'shared', 'api.yml'), BASE.replace(/web/g, 'api'));
    const real = realpathSync(dir);
    symlinkSync(secret, join(dir, 'services', 'x.yaml'));
    symlinkSync('/dev/zero', join(dir, 'services', 'zero.yaml'));
    symlinkSync(join(dir, 'shared'), join(dir, 'services', 'shared'));
    // Not named like a spec, to a file: not a spec, not read, no error (like README.md).
    symlinkSync(secret, join(dir, 'services', 'README.md'));
    const problems = await problemsOf([join(dir, 'services')]);
    expect(problems).to.deep.equal([
      `${join(dir, 'services', 'shared')}: is a symbolic link to the directory ${join(real, 'shared')}; ${why}`,
      `${join(dir, 'services', 'x.yaml')}: is a symbolic link to ${join(real, 'shadow')}, a file not named *.yaml or *.yml; ${why}`,
      `${join(dir, 'services', 'zero.yaml')}: is a symbolic link to /dev/zero, which is a character device; ${why}`,
    ]);
    expect(problems.join('\n')).not.to.include('root');
    // Links to specs kept elsewhere in the repository are read, under the link's name.
    for (const l of ['x.yaml', 'zero.yaml', 'shared']) rmSync(join(dir, 'services', l));
    symlinkSync('../shared/web.yaml', join(dir, 'services', 'web.yaml'));
    symlinkSync(join(dir, 'shared', 'api.yml'), join(dir, 'services', 'api.yml'));
    const files = await readSpecFiles([join(dir, 'services'), join(dir, 'environments')]);
    expect(files.map((f) => f.file)).to.deep.equal([join(dir, 'services', 'api.yml'), join(dir, 'services', 'web.yaml'), join(dir, 'environments', 'qa.yaml')]);
    expect(files[1]!.text).to.equal(BASE);
    expect(loadSet(files).problems).to.deep.equal([]);
  });
});
