/**
 * What servers answer reaches stdout escaped, as it reaches stderr: the runner's
 * `out` (every command's tables, reports and `--json` documents) and the tables that
 * put server text in columns. Only the whole stack could make Nomad or Consul hold
 * such text, so the formatters and the runner get it directly; `render` shows that a
 * generated file still reaches stdout exactly.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Command } from 'commander';
import { main } from '../../src/cli.js';
import { printingLogger } from '../../src/commands/common.js';
import { attachSession, run, type RunContext, type Session } from '../../src/commands/runner.js';
import { formatResults } from '../../src/deploy/cli-support.js';
import { formatStatus } from '../../src/deploy/status.js';
import { escapeOutput, escapeText } from '../../src/errors.js';
import { redactorFromEnv } from '../../src/redact.js';

/** What must not reach a terminal raw: C0 controls but tab and line feed, DEL and C1, U+2028, U+202E, a tag character. */
// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u202e\u{e0041}]/u;

/** An OSC retitle with BEL, a screen clear, a carriage return, a right-to-left override, a C1 CSI and U+2028. */
const HOSTILE = 'a\u001b]0;pwned\u0007\u001b[2J\rb\u202egnp.exe\u009b31m\u2028c';

function session(env: Record<string, string> = { PATH: process.env['PATH'] ?? '' }): Session & { text: () => { out: string; err: string } } {
  let out = '';
  let err = '';
  return {
    env,
    stdout: (s) => void (out += s),
    stderr: (s) => void (err += s),
    redactor: redactorFromEnv(env),
    text: () => ({ out, err }),
  };
}

describe('stdout: what servers answer is escaped as on stderr', () => {
  it('escapeOutput writes ESC, BEL, CR, C1 and bidi controls as JSON escapes and keeps line breaks and tabs', () => {
    expect(escapeOutput(HOSTILE)).to.equal('a\\u001b]0;pwned\\u0007\\u001b[2J\\rb\\u202egnp.exe\\u009b31m\\u2028c');
    expect(escapeOutput('a\tb\nc Ω café ✓')).to.equal('a\tb\nc Ω café ✓');
    // A tag character (above U+FFFF) as its two UTF-16 escapes, which JSON reads back.
    expect(escapeOutput('x\u{e0041}')).to.equal('x\\udb40\\udc41');
    expect(escapeOutput(escapeOutput(HOSTILE))).to.equal(escapeOutput(HOSTILE));
  });

  // Regression: `status` printed a live job's image (any text whoever registered the job wrote) raw.
  it('the status table escapes every cell to one line and keeps its columns', () => {
    const text = formatStatus([
      {
        job: 'web',
        namespace: 'default',
        status: 'running',
        version: 3,
        images: [{ group: 'g', task: 't', image: `shop/${HOSTILE}\nforged  row` }],
        healthy: 1,
        desired: 1,
      },
      { job: 'api', namespace: 'default', status: 'dead', images: [], healthy: 0, desired: 0 },
    ]);
    expect(text).not.to.match(RAW);
    const lines = text.split('\n');
    expect(lines).to.have.length(4); // header, two rows, and the final newline: the line break did not forge a row
    expect(lines[1]).to.include('shop/a\\u001b]0;pwned\\u0007\\u001b[2J\\rb\\u202egnp.exe\\u009b31m\\u2028c\\nforged  row (unpinned)');
    expect(lines[2]!.indexOf('dead')).to.equal(lines[1]!.indexOf('running'));
  });

  // Regression: a deploy's summary printed the failure message (a server's error body, a deployment description) raw.
  it('the deploy results table keeps each job on one escaped line', () => {
    const text = formatResults({
      environment: 'qa',
      exitCode: 4,
      results: [
        { job: 'web', outcome: 'failed', exitCode: 4, seconds: 1.5, message: `web: ${HOSTILE}\napi  successful  0.1 s  forged`, diagnosis: [] },
        { job: 'api', outcome: 'unchanged', exitCode: 0, seconds: 0, message: 'no changes', diagnosis: [] },
      ],
    });
    expect(text).to.equal(
      [
        'web  failed (exit 4)  1.5 s  web: a\\u001b]0;pwned\\u0007\\u001b[2J\\rb\\u202egnp.exe\\u009b31m\\u2028c\\napi  successful  0.1 s  forged',
        'api  unchanged        0.0 s  no changes',
        'exit 4',
        '',
      ].join('\n'),
    );
  });

  it("the runner's out escapes what it prints, --json documents stay the same document, verbatim stays exact", async () => {
    const s = session();
    const program = new Command().exitOverride();
    attachSession(program, s);
    const doc = { description: HOSTILE, tag: 'x\u{e0041}', nbsp: 'a\u00a0b' };
    program.command('show').action(
      run((c: RunContext<unknown>) => {
        c.out(`status: ${HOSTILE}\n`);
        c.out(`${JSON.stringify(doc, null, 2)}\n`);
        c.verbatim('data = <<EOT\n✅\ufe0f\u00a0done\nEOT\n');
      }),
    );
    await program.parseAsync(['show'], { from: 'user' });
    const { out } = s.text();
    expect(out).not.to.match(RAW);
    const [first, ...rest] = out.split('\n');
    expect(first).to.equal(`status: ${escapeOutput(HOSTILE)}`);
    const json = rest.join('\n');
    const end = json.indexOf('}\n') + 2;
    expect(JSON.parse(json.slice(0, end))).to.deep.equal(doc);
    expect(json.slice(end)).to.equal('data = <<EOT\n✅\ufe0f\u00a0done\nEOT\n');
  });

  // Regression: a tag character in an event was written `\u{e0041}` on the NDJSON stream, which no JSON parser reads.
  it('--events ndjson: every event line is JSON that parses back to the event, escaped', async () => {
    const s = session();
    const program = new Command().exitOverride();
    attachSession(program, s);
    const path = `services/${HOSTILE} x\u{e0041}.YAML`;
    program
      .command('show')
      .option('--events <format>')
      .action(run((c: RunContext<unknown>) => c.log({ kind: 'spec.skipped', path, reason: 'r' })));
    await program.parseAsync(['show', '--events', 'ndjson'], { from: 'user' });
    const { err } = s.text();
    expect(err).not.to.match(RAW);
    expect(JSON.parse(err)).to.deep.equal({ kind: 'spec.skipped', path, reason: 'r' });
  });

  it('the printing logger (maintenance) escapes its lines and keeps NDJSON parseable', () => {
    let text = '';
    const event = { kind: 'consul.maintenance', target: `node ${HOSTILE}\nforged x\u{e0041}`, enable: true } as const;
    printingLogger({ write: (s) => (text += s) })(event);
    // As the runner's progress lines: each line escaped, the line breaks between them kept.
    expect(text).to.equal(`maint    node ${escapeText(HOSTILE)}\nforged x\\u{e0041}: on\n`);
    text = '';
    printingLogger({ ndjson: true, write: (s) => (text += s) })(event);
    expect(text).not.to.match(RAW);
    expect(JSON.parse(text)).to.deep.equal(event);
  });

  it('render prints its HCL to stdout as it writes it to a file: a heredoc keeps a no-break space and a variation selector', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hashiship-stdout-'));
    try {
      mkdirSync(join(dir, 'services'));
      mkdirSync(join(dir, 'environments'));
      writeFileSync(join(dir, 'environments', 'qa.yaml'), 'name: qa\n');
      writeFileSync(
        join(dir, 'services', 'web.yaml'),
        [
          'name: web',
          'groups:',
          '  - name: web',
          '    tasks:',
          '      - name: web',
          '        driver: raw_exec',
          '        command: /bin/true',
          '        templates:',
          '          - destination: local/motd',
          '            data: |',
          '              ✅\ufe0f\u00a0ready',
          '              second line',
          '',
        ].join('\n'),
      );
      const s = session({ PATH: process.env['PATH'] ?? '', HOME: dir });
      const code = await main(['render', '--env', 'qa', '--services', join(dir, 'services'), '--environments', join(dir, 'environments')], s);
      expect(code, s.text().err).to.equal(0);
      expect(s.text().out).to.include('<<EOT\n✅\ufe0f\u00a0ready\nsecond line\nEOT');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
