/**
 * The CLI over the hostile corpus (test/fixtures/hostile, see
 * test/unit/spec-hostile.test.ts): `validate` exits 1 with exactly each case's
 * problems, `render --out` exits 1 and writes nothing, a FIFO does not hang it.
 * No server is needed: every case is refused before one would be contacted.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';

const run = promisify(execFile);
const HOSTILE = 'test/fixtures/hostile';
const BASE = `name: web
groups:
  - name: web
    tasks:
      - name: web
        image: {repository: shop/web, tag: "1.0"}
`;

describe('hashiship validate and render on the hostile corpus', function () {
  this.timeout(300_000);
  const root = process.cwd();
  const cli = join(root, 'dist/cli.js');

  before(function () {
    // The CLI runs from dist/: rebuild it when src/ changed since.
    const newest = (d: string): number =>
      Math.max(...readdirSync(d, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(d, e.name)) : statSync(join(d, e.name)).mtimeMs)));
    const built = existsSync(cli) ? statSync(cli).mtimeMs : 0;
    if (built < newest(join(root, 'src'))) {
      const b = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
      if (b.status !== 0) throw new Error(`npm run build failed:\n${b.stdout}${b.stderr}`);
    }
  });

  const hashiship = (...args: string[]) =>
    // The timeout only kills a hung process (a FIFO read used to hang forever); the assertions are on the output.
    run(process.execPath, [cli, ...args], { timeout: 120_000, maxBuffer: 4 << 20 }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  /** Run `f` over the items, `n` at a time. */
  async function pool<T>(items: readonly T[], n: number, f: (item: T, index: number) => Promise<void>): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: n }, async () => {
        while (next < items.length) {
          const i = next++;
          await f(items[i]!, i);
        }
      }),
    );
  }

  it('validate exits 1 on every case with exactly its problems; render exits 1 and writes nothing', async () => {
    const out = mkdtempSync(join(tmpdir(), 'hashiship-hostile-out-'));
    const noEnvironments = join(out, 'environments');
    mkdirSync(noEnvironments);
    const failures: string[] = [];
    try {
      await pool(readdirSync(HOSTILE).sort(), 3, async (c, i) => {
        const dir = join(HOSTILE, c);
        const expected = readFileSync(join(dir, 'expected.txt'), 'utf8').trimEnd().split('\n');
        const v = await hashiship('validate', dir);
        const want =
          expected.length === 1 ? `Error: ${expected[0]}\n` : `Error: ${expected.length} problems in the input\n${expected.map((l) => `  ${l}`).join('\n')}\n`;
        if (v.code !== 1 || v.stderr !== want || v.stdout !== '') failures.push(`${c}: validate exit ${v.code}\n${v.stderr}${v.stdout}`);
        // render reads through the same code: every case with an environment file and every fifth other one keep the run short.
        if (!existsSync(join(dir, 'environments')) && i % 5 !== 0) return;
        const target = join(out, c);
        const environments = existsSync(join(dir, 'environments')) ? join(dir, 'environments') : noEnvironments;
        const r = await hashiship('render', '--env', 'qa', '--services', join(dir, 'services'), '--environments', environments, '--out', target);
        if (r.code !== 1 || !r.stderr.startsWith('Error: ') || r.stdout !== '' || existsSync(target))
          failures.push(`${c}: render exit ${r.code}, wrote ${existsSync(target)}\n${r.stderr}`);
      });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    expect(failures).to.deep.equal([]);
  });

  it('validate exits 1 naming a FIFO in the services folder instead of hanging', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hashiship-hostile-'));
    try {
      writeFileSync(join(dir, 'web.yaml'), BASE);
      execFileSync('mkfifo', [join(dir, 'api.yaml')]);
      const r = await hashiship('validate', dir);
      expect(r).to.deep.include({ code: 1, stderr: `Error: ${join(dir, 'api.yaml')}: is a FIFO, not a regular file; spec files must be regular files\n` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Regression: a symlink loop was `Error: internal` with exit 2 ("a server failed").
  it('validate exits 1 naming a symbolic link loop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hashiship-hostile-'));
    try {
      writeFileSync(join(dir, 'web.yaml'), BASE);
      symlinkSync('loop.yaml', join(dir, 'loop.yaml'));
      const r = await hashiship('validate', dir);
      expect(r).to.deep.include({ code: 1, stderr: `Error: ${join(dir, 'loop.yaml')}: a symbolic link loop (the link points back to itself)\n` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Regression: `x.yaml -> /etc/shadow` in a checked-out folder was read as a spec and its lines shown in "unknown key" messages.
  it('validate exits 1 naming a link to a file that is not a spec, printing nothing of it; follows a link to a spec', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hashiship-hostile-'));
    try {
      const services = join(dir, 'services');
      mkdirSync(services);
      mkdirSync(join(dir, 'shared'));
      writeFileSync(join(dir, 'shared', 'web.yaml'), BASE);
      writeFileSync(join(dir, 'token'), 'secret_key: s3cr3t-do-not-print\n');
      symlinkSync('../shared/web.yaml', join(services, 'web.yaml'));
      symlinkSync(join(dir, 'token'), join(services, 'x.yaml'));
      const r = await hashiship('validate', services);
      expect(r).to.deep.include({
        code: 1,
        stdout: '',
        stderr: `Error: ${join(services, 'x.yaml')}: is a symbolic link to ${join(realpathSync(dir), 'token')}, a file not named *.yaml or *.yml; in a spec folder only links to regular files named *.yaml or *.yml are followed\n`,
      });
      rmSync(join(services, 'x.yaml'));
      expect(await hashiship('validate', services)).to.deep.include({ code: 0, stderr: '', stdout: 'ok: 1 service, 0 environments (none)\n' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('validate names skipped files and accepts an empty set only with --allow-empty', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hashiship-hostile-'));
    try {
      writeFileSync(join(dir, 'web.YAML'), BASE);
      const r = await hashiship('validate', dir);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.equal(
        `Error: ${dir}: no service specs found (skipped: web.YAML); service specs are files named *.yaml or *.yml (validate and render accept --allow-empty for an empty set)\n`,
      );
      const ok = await hashiship('validate', '--allow-empty', dir);
      expect(ok).to.deep.include({ code: 0, stdout: 'ok: 0 services, 0 environments (none)\n' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
