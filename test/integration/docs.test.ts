/**
 * Every fenced code block of README.md and docs/**\/*.md is executed or checked here,
 * so that the docs cannot drift from the code (issue 11: the library snippets imported
 * `hashiship/dist/…`, which the package does not export).
 *
 * What a block is decides what happens to it:
 * - `ts`: written into a temporary copy of the repository (so that `import … from
 *   'hashiship'` resolves through package.json `exports`, as it does for a user) and
 *   run with tsx, cwd the copy, the dev stack's variables set; it must exit 0.
 * - a transcript (```console, or a block whose first line starts with `$ `): each `$ `
 *   line (with `\` continuations) is a command, run in one bash in the copy with a
 *   `hashiship` on PATH (this checkout's dist/cli.js) and the stack's variables; the lines
 *   until the next `$ ` are its expected output. They must appear in the output in that
 *   order, compared loosely: runs of spaces are one, `…` stands for anything, and
 *   numbers (times, pids, indexes) and hex strings (digests, IDs) match any number or hex
 *   string. A command whose expected output ends with hashiship's summary line `exit N`
 *   must exit N; one whose expected output holds an `Error:` line must fail; the
 *   others must exit 0 unless the next command is `echo $?`, whose output then says.
 * - ```sh / ```bash outside docs/runbooks: every line is a command (as above, no output).
 * - ```sh / ```bash whose every line is `npx mocha <test files>`: run as written with
 *   mocha's `--dry-run` added. Those tests run in `npm test` already; running them here
 *   would pay for them twice (the runbook suites of docs/runbooks/README.md: ~5 min on
 *   a dev cluster of their own). Instead each file must exist, mocha must load it and
 *   list at least one test (no test and no hook runs), and for docs/runbooks the
 *   files named must be exactly test/integration/runbook*.test.ts and the listing must
 *   name every runbook page: the command the docs give runs every runbook test.
 * - docs/runbooks ```bash blocks are run, page by page, by test/integration/runbook*.test.ts;
 *   here their count is checked against the steps those tests run.
 * - ```yaml: parsed; a service or environment file (its `$schema` comment says so) is
 *   validated by the spec loader. ```hcl: parsed by hcl2-parser. ```json: parsed, where a
 *   bare `…` stands for elided content.
 * - any other block (an excerpt of output, a synopsis, a file tree) is text: listed,
 *   not run.
 *
 * A block that cannot run here is preceded by `<!-- doc-test: skip <reason> -->`; the
 * reason must say what it needs that this machine lacks. A block that could run but does
 * not yet would be marked `<!-- doc-test: pending <reason> -->`: listed as PENDING; none
 * is left, and their number may only go down (`pendingAllowed`). A block may be preceded
 * by `<!-- doc-test: setup <shell> -->` lines, run (hidden) in the same bash before it.
 * Every block not executed is listed in the test's output with its reason: nothing is
 * skipped silently.
 */
import { expect } from 'chai';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseHcl } from '../../src/hcl/parser.js';
import { loadSet } from '../../src/service-spec/load.js';
import { formatProblem } from '../../src/errors.js';
import { run } from '../../src/stack/proc.js';
import { testStackOptions, useStack } from '../helpers/stack.js';
import { ensureBuilt } from '../helpers/dist.js';

const repo = resolve('.');

export interface Block {
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly lang: string;
  readonly body: string;
  /** `<!-- doc-test: … -->` on the line before the fence (other than `setup`). */
  readonly directive?: string;
  /** `<!-- doc-test: setup … -->` lines before the fence, in order. */
  readonly setup: readonly string[];
}

/** Every fenced block of a Markdown file, with the directive comment before it. */
export function fencedBlocks(file: string): Block[] {
  const lines = readFileSync(join(repo, file), 'utf8').split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)\s*$/.exec(lines[i]!);
    if (open === null) continue;
    const [, indent, fence, lang] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = /^(\s*)(`{3,}|~{3,})\s*$/.exec(lines[j]!);
      if (close !== null && close[2]!.startsWith(fence![0]!) && close[2]!.length >= fence!.length) break;
      body.push(lines[j]!.startsWith(indent!) ? lines[j]!.slice(indent!.length) : lines[j]!);
    }
    const comments: string[] = [];
    for (let k = i - 1; k >= 0; k--) {
      const c = /^\s*<!--\s*doc-test:\s*(.*?)\s*-->\s*$/.exec(lines[k]!);
      if (c === null) break;
      comments.unshift(c[1]!);
    }
    const setup = comments.filter((c) => c.startsWith('setup ')).map((c) => c.slice('setup '.length));
    const directive = comments.find((c) => !c.startsWith('setup '));
    out.push({ file, line: i + 1, lang: lang ?? '', body: body.join('\n'), setup, ...(directive === undefined ? {} : { directive }) });
    i = j;
  }
  return out;
}

function markdownFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(repo, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : [],
    );
  return ['README.md', ...walk('docs').sort()];
}

/** One command of a transcript and the output shown for it. */
export interface Step {
  readonly command: string;
  readonly expected: readonly string[];
}

/** `$ ` lines (with `\` continuations) and the output lines after each. */
export function transcript(body: string): Step[] {
  const steps: { command: string; expected: string[] }[] = [];
  const lines = body.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.startsWith('$ ')) {
      let command = l.slice(2);
      while (command.endsWith('\\') && i + 1 < lines.length) command = `${command}\n${lines[++i]!}`;
      steps.push({ command, expected: [] });
    } else if (steps.length > 0) {
      steps[steps.length - 1]!.expected.push(l);
    }
  }
  return steps;
}

/**
 * A loose pattern for one expected output line (see the file comment): `…` is
 * anything, runs of spaces are one; numbers of 3 or more digits, decimals, durations
 * (`2.5 s`, `57 ms`) and hex strings (digests, IDs) match any such value, while a short
 * whole number (an exit code, a count such as `3 problem(s)`) must be equal.
 */
export function linePattern(expected: string): RegExp {
  const token = /(…|\s+|\b[0-9a-f]*[0-9][0-9a-f]*(?:\.[0-9]+)?\b)/;
  const parts = expected.trim().split(token);
  const src = parts
    .map((p, i) => {
      if (p === '') return '';
      if (p === '…') return '.*';
      if (/^\s+$/.test(p)) return '\\s+';
      if (token.test(p) && /^[0-9a-f.]+$/.test(p)) {
        const next = parts.slice(i + 1).join('');
        const loose = p.replace('.', '').length >= 3 || p.includes('.') || /[a-f]/.test(p) || /^\s*(ms|s|m|h|min)\b/.test(next);
        if (loose) return '[0-9a-f]+(?:\\.[0-9]+)?';
      }
      return p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return new RegExp(src);
}

/** The expected lines that are not found, in order, in `actual`; empty when all are. */
export function missingLines(expected: readonly string[], actual: string): string[] {
  const lines = actual.split('\n').map((l) => l.trim());
  let at = 0;
  const missing: string[] = [];
  for (const e of expected) {
    if (e.trim() === '') continue;
    const re = linePattern(e);
    const found = lines.findIndex((l, k) => k >= at && re.test(l));
    if (found < 0) missing.push(e);
    else at = found + 1;
  }
  return missing;
}

/** The state folder the docs show: the default one of root (~/.cache/hashiship/dev-stack). */
const documentedStateDir = '/root/.cache/hashiship/dev-stack';

/** Output as the docs show it: a run with HASHISHIP_CACHE or HASHISHIP_STACK_DIR prints its own state folder. */
function asDocumented(text: string): string {
  const o = testStackOptions();
  const actual = o.stateDir ?? join(o.cacheDir, 'dev-stack');
  return actual === documentedStateDir ? text : text.replaceAll(actual, documentedStateDir);
}

const runbookPage = (b: Block) => b.file.startsWith(join('docs', 'runbooks'));
/**
 * The ```bash blocks test/integration/runbook.test.ts and runbook-acl.test.ts run, per
 * page (block 0 of a page, its variables and helpers, runs before each of the others).
 */
const runbookSteps: Readonly<Record<string, number>> = {
  'acl.md': 7,
  'gossip.md': 2,
  'lost-server.md': 4,
  'rollback.md': 2,
  'snapshot.md': 5,
  'vault.md': 4,
  'worker.md': 3,
};

const where = (b: Block) => `${b.file}:${b.line}`;

type Kind = 'ts' | 'transcript' | 'commands' | 'mocha' | 'runbook' | 'yaml' | 'hcl' | 'json' | 'text' | 'skip' | 'pending';

/** Blocks marked pending; lower it as they are made to run, never raise it. */
const pendingAllowed = 0;

/** The lines of a ```sh/```bash block, comments and blank lines left out. */
const commandLines = (b: Block) => b.body.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));

/** The test files of a block whose every line is `npx mocha <files…>`; undefined for any other block. */
export function mochaFiles(b: Block): string[] | undefined {
  const lines = commandLines(b);
  const files = lines.map((l) => /^npx mocha((?:\s+test\/[\w./-]+\.test\.ts)+)\s*$/.exec(l.trim())?.[1]?.trim().split(/\s+/));
  if (lines.length === 0 || files.some((f) => f === undefined)) return undefined;
  return files.flatMap((f) => f!);
}

export function kindOf(b: Block): Kind {
  if (b.directive?.startsWith('skip ')) return 'skip';
  if (b.directive?.startsWith('pending ')) return 'pending';
  if (b.lang === 'ts' || b.lang === 'typescript') return 'ts';
  if (b.lang === 'yaml' || b.lang === 'yml') return 'yaml';
  if (b.lang === 'hcl') return 'hcl';
  if (b.lang === 'json') return 'json';
  if (runbookPage(b) && b.lang === 'bash') return 'runbook';
  if ((b.lang === 'sh' || b.lang === 'bash') && mochaFiles(b) !== undefined) return 'mocha';
  if (b.lang === 'console' || b.body.startsWith('$ ')) return 'transcript';
  if (b.lang === 'sh' || b.lang === 'bash') return 'commands';
  return 'text';
}

/** Run or check one block in `copy` with `env`; returns its line for the report. */
export async function executeBlock(b: Block, copy: string, env: NodeJS.ProcessEnv): Promise<string> {
  const kind = kindOf(b);
  switch (kind) {
    case 'skip':
      return `skipped: ${where(b)}: ${b.directive!.replace(/^skip\s*/, '')}`;
    case 'pending':
      return `PENDING (not executed yet): ${where(b)}: ${b.directive!.replace(/^pending\s*/, '')}`;
    case 'text':
      return `text: ${where(b)}: ${b.body.split('\n')[0]!.slice(0, 70)}`;
    case 'yaml': {
      const docs = parseAllDocuments(b.body);
      for (const d of docs)
        expect(
          d.errors.map((e) => e.message),
          where(b),
        ).to.deep.equal([]);
      const schema = /\$schema=\S*\/(service|environment|external)\.schema\.json/.exec(b.body)?.[1];
      if (schema !== undefined) {
        // Named as the file it shows (a spec's name must match its file name).
        const name = (docs[0]?.toJS() as { name?: unknown } | undefined)?.name;
        const file = `${where(b)}/${typeof name === 'string' ? name : 'unnamed'}.yaml`;
        const set = loadSet([{ file, text: b.body, kind: schema === 'environment' ? 'environment' : 'service' }]);
        expect(set.problems.map(formatProblem), where(b)).to.deep.equal([]);
      }
      return `checked: ${where(b)} yaml${schema === undefined ? '' : ` (${schema} spec)`}`;
    }
    case 'hcl':
      parseHcl(b.body);
      return `checked: ${where(b)} hcl`;
    case 'json':
      JSON.parse(
        b.body
          .replace(/\[\s*…\s*\]/g, '[]')
          .replace(/,\s*…/g, '')
          .replace(/"…"/g, '""'),
      );
      return `checked: ${where(b)} json`;
    case 'ts': {
      const file = join(copy, '.doc-test', `${b.file.replace(/\W/g, '_')}_${b.line}.ts`);
      writeFileSync(file, b.body);
      const r = await run(join(repo, 'node_modules', '.bin', 'tsx'), [file], { cwd: copy, env, timeoutMs: 120_000 });
      expect(r.code, `${where(b)}:\n${r.stdout}${r.stderr}`).to.equal(0);
      return `executed: ${where(b)} ts`;
    }
    case 'commands':
    case 'transcript': {
      const steps: Step[] = kind === 'commands' ? commandLines(b).map((command) => ({ command, expected: [] })) : transcript(b.body);
      expect(steps.length, `${where(b)}: no command`).to.be.greaterThan(0);
      // One bash for the block, stderr merged: variables and the exit status carry over (`echo $?`).
      // Hidden setup first, its output dropped (a brace group: its own redirections still apply, variables stay).
      const script = [
        'exec 2>&1',
        'set +e',
        ...b.setup.map((c) => `{ ${c}\n} >/dev/null || { echo "doc-test setup failed: ${c.replace(/["$`\\]/g, '\\$&')}"; exit 99; }`),
      ]
        .concat('__s=0')
        // `(exit $__s)` hands the previous command's status to this one (`echo $?`) past the markers.
        .concat(steps.map((s, i) => `printf '\\n@@doc-test %d@@\\n' ${i}; (exit $__s)\n${s.command}\n__s=$?; printf '\\n@@doc-test-exit %d %d@@\\n' ${i} $__s`))
        .join('\n');
      // `npm run demo` (README) builds dist/ and runs the whole release flow: minutes on a loaded machine.
      const r = await run('bash', ['-c', script], { cwd: copy, env, timeoutMs: 400_000 });
      if (r.code === null) expect.fail(`${where(b)}: killed after 400 s (${r.signal}); output:\n${r.stdout.slice(-3000)}`);
      const out = r.stdout;
      const problems: string[] = [];
      steps.forEach((s, i) => {
        const start = out.indexOf(`@@doc-test ${i}@@`);
        const end = out.indexOf(`@@doc-test-exit ${i} `);
        const text = start < 0 || end < 0 ? '' : asDocumented(out.slice(start + `@@doc-test ${i}@@`.length, end));
        const code = end < 0 ? -1 : Number(/@@doc-test-exit \d+ (\d+)@@/.exec(out.slice(end))?.[1]);
        const failing = s.expected.some((l) => /^Error:/.test(l));
        const checked = steps[i + 1]?.command.trim() === 'echo $?';
        // hashiship's deploy summary ends with `exit N`: the command must exit N.
        const last = s.expected.filter((l) => l.trim() !== '').at(-1) ?? '';
        const shown = /^exit (\d+)$/.exec(last.trim())?.[1];
        const wrong: string[] = [];
        if (shown !== undefined && code !== Number(shown)) wrong.push(`exit ${code}, the docs show exit ${shown}`);
        else if (shown === undefined && failing && code === 0) wrong.push('exit 0, the docs show an error');
        else if (shown === undefined && !failing && !checked && code !== 0) wrong.push(`exit ${code}`);
        const missing = missingLines(s.expected, text);
        if (missing.length > 0) wrong.push(`not in the output:\n    ${missing.join('\n    ')}`);
        if (wrong.length > 0) problems.push(`$ ${s.command}: ${wrong.join('; ')}\n  output was:\n${text.replace(/^/gm, '  | ')}`);
      });
      const setupFailed = /doc-test setup failed: .*/.exec(out)?.[0];
      expect(setupFailed, where(b)).to.equal(undefined);
      expect(problems.length, `${where(b)}\n${problems.join('\n')}`).to.equal(0);
      return `executed: ${where(b)} ${kind} (${steps.length} command${steps.length === 1 ? '' : 's'})`;
    }
    case 'mocha': {
      // See the file comment: listed with --dry-run (files loaded, no test or hook run), run for real by npm test.
      const files = mochaFiles(b)!;
      for (const f of files) expect(existsSync(join(copy, f)), `${where(b)}: ${f} does not exist`).to.equal(true);
      let listing = '';
      let tests = 0;
      for (const line of commandLines(b)) {
        const r = await run('bash', ['-c', `${line} --dry-run`], { cwd: copy, env, timeoutMs: 120_000 });
        expect(r.code, `${where(b)}: ${line} --dry-run:\n${r.stdout}${r.stderr}`).to.equal(0);
        const n = Number(/(\d+) passing/.exec(r.stdout)?.[1] ?? 0);
        expect(n, `${where(b)}: ${line} --dry-run lists no test:\n${r.stdout}${r.stderr}`).to.be.greaterThan(0);
        listing += r.stdout;
        tests += n;
      }
      if (runbookPage(b)) {
        const suites = readdirSync(join(repo, 'test', 'integration'))
          .filter((f) => /^runbook.*\.test\.ts$/.test(f))
          .map((f) => `test/integration/${f}`);
        expect([...files].sort(), `${where(b)}: the files of the runbook tests`).to.deep.equal(suites.sort());
        for (const page of Object.keys(runbookSteps)) expect(listing, `${where(b)}: no test of ${page} listed`).to.include(page);
      }
      return `mocha --dry-run: ${where(b)}: ${tests} tests of ${files.join(' ')} listed, not run here (npm test runs them)`;
    }
    case 'runbook':
      return `runbook: ${where(b)} (test/integration/runbook*.test.ts)`;
  }
}

/**
 * A copy of the repository for the blocks to run in (they write files: render --out,
 * plan --out, …), with `node_modules` and `dist` linked, a `hashiship` on PATH, and the
 * variables `dev env` gives plus the folders blocks take from variables.
 */
export function prepareCopy(stackEnv: Readonly<Record<string, string>>): { copy: string; env: NodeJS.ProcessEnv } {
  const copy = mkdtempSync(join(tmpdir(), 'hashiship-doc-test-'));
  for (const e of readdirSync(repo)) {
    if (e === '.git' || e === 'node_modules' || e === 'dist') continue;
    cpSync(join(repo, e), join(copy, e), { recursive: true, verbatimSymlinks: true });
  }
  symlinkSync(join(repo, 'node_modules'), join(copy, 'node_modules'));
  symlinkSync(join(repo, 'dist'), join(copy, 'dist'));
  const bin = join(copy, '.doc-test', 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'hashiship'), `#!/bin/sh\nexec ${process.execPath} ${join(repo, 'dist', 'cli.js')} "$@"\n`);
  chmodSync(join(bin, 'hashiship'), 0o755);
  // Folders the blocks name through variables with a default for a real machine (`PROM=${PROM:-/etc/prometheus}`).
  const prom = join(copy, '.doc-test', 'prometheus');
  mkdirSync(prom, { recursive: true });
  // `npm link` (README) links into a global folder of the test's own, first on PATH.
  const npmPrefix = join(copy, '.doc-test', 'npm-global');
  const path = [join(npmPrefix, 'bin'), bin, stackEnv['HASHISHIP_STACK_BIN'], process.env['PATH']].filter((p) => p !== undefined && p !== '').join(':');
  return { copy, env: { ...process.env, ...stackEnv, PROM: prom, npm_config_prefix: npmPrefix, PATH: path, NO_COLOR: '1' } };
}

const all = markdownFiles().flatMap(fencedBlocks);

describe('docs: every code block of README.md and docs/ runs (test/integration/docs.test.ts)', function () {
  this.timeout(420_000);
  let env: NodeJS.ProcessEnv;
  let copy: string;
  const report: string[] = [];
  // Set when this file's tests start (not when mocha loads every file), so the figure is this test's own.
  let t0 = 0;

  before(async function () {
    this.timeout(900_000);
    t0 = Date.now();
    const stack = await useStack();
    // The CLI and the `hashiship` package resolve to dist/: build it when src is newer.
    ensureBuilt();
    ({ copy, env } = prepareCopy(stack.env));
  });

  after(() => {
    if (copy !== undefined) rmSync(copy, { recursive: true, force: true });
    const count = (k: string) => report.filter((r) => r.startsWith(k)).length;
    process.stdout.write(
      `      docs: ${all.length} blocks in ${((Date.now() - t0) / 1000).toFixed(1)} s — executed ${count('executed')}, checked ${count('checked')}, ` +
        `run by the runbook tests ${count('runbook')}, listed by mocha --dry-run ${count('mocha')}, text ${count('text')}, skipped ${count('skipped')}, ` +
        `PENDING ${count('PENDING')}\n`,
    );
    for (const r of report) if (!r.startsWith('executed') && !r.startsWith('checked')) process.stdout.write(`        ${r}\n`);
  });

  it('finds the blocks: every skip and pending gives a reason, pending ones do not grow, directives are known', () => {
    expect(all.length).to.be.greaterThan(50);
    for (const b of all) {
      if (b.directive !== undefined) expect(b.directive, `${where(b)}: unknown doc-test directive`).to.match(/^(skip|pending) \S/);
      if (kindOf(b) === 'skip' || kindOf(b) === 'pending')
        expect(b.directive!.replace(/^\w+\s*/, ''), `${where(b)}: needs a reason`).to.have.length.greaterThan(10);
    }
    expect(all.filter((b) => kindOf(b) === 'pending').length, 'blocks marked pending').to.be.at.most(pendingAllowed);
  });

  it('docs/runbooks: every ```bash block is a step of the runbook tests', () => {
    for (const [page, n] of Object.entries(runbookSteps)) {
      const blocks = all.filter((b) => b.file === join('docs', 'runbooks', page) && kindOf(b) === 'runbook');
      expect(blocks.length, `${page}: bash blocks vs the steps runbook*.test.ts runs`).to.equal(n);
      for (const b of blocks) report.push(`runbook: ${where(b)} (test/integration/runbook*.test.ts)`);
    }
    const pages = new Set(all.filter((b) => kindOf(b) === 'runbook').map((b) => b.file));
    expect([...pages].map((p) => p.split('/').pop()).sort()).to.deep.equal(Object.keys(runbookSteps).sort());
  });

  it('the TypeScript blocks type-check against the package as published (dist/index.d.ts, strict)', async () => {
    const dir = join(copy, '.doc-test', 'typecheck');
    mkdirSync(dir, { recursive: true });
    const ts = all.filter((b) => kindOf(b) === 'ts');
    // Each block is a module of its own (top-level await, no shared names).
    for (const b of ts) writeFileSync(join(dir, `${b.file.replace(/\W/g, '_')}_${b.line}.ts`), `${b.body}\nexport {};\n`);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ extends: '../../tsconfig.json', compilerOptions: { types: ['node'], noEmit: true, rootDir: '../..' }, include: ['*.ts'] }),
    );
    const r = await run(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { cwd: copy, timeoutMs: 120_000 });
    expect(r.code, `${r.stdout}${r.stderr}`).to.equal(0);
    report.push(`checked: ${ts.length} ts blocks type-check`);
  });

  for (const b of all) {
    const kind = kindOf(b);
    if (kind === 'runbook') continue;
    it(`${where(b)} ${b.lang || '(no language)'}: ${kind}`, async () => {
      report.push(await executeBlock(b, copy, env));
    });
  }
});
