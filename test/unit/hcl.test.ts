/**
 * The HCL writer: layout that `nomad fmt` leaves alone, escaping that Nomad's
 * parser reads back as the original string, and the hcl2-parser adapter.
 * Nomad itself checks the same outputs in test/integration/render.test.ts.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { attr, block, escapeTemplate, formatHcl, object, quoteString, usesHeredoc } from '../../src/hcl/writer.js';
import { HclParseError, parseHcl } from '../../src/hcl/parser.js';
import { formatDuration, parseDuration } from '../../src/service-spec/duration.js';
import { adversarialString } from '../helpers/spec-arbitrary.js';

/** hcl2json's shape for `job "j" { a = … }`: the value of attribute `a`. */
function parsedAttr(text: string, name: string): unknown {
  const doc = parseHcl(text) as { job: { j: [Record<string, unknown>] } };
  return doc.job.j[0][name];
}

describe('hcl writer', () => {
  it('aligns the = of consecutive attributes and separates blocks by one blank line', () => {
    const text = formatHcl([
      block(
        'job',
        ['j'],
        [
          attr('region', 'global'),
          attr('datacenters', ['dc1', 'dc2']),
          attr('priority', 50),
          block('group', ['g'], [attr('count', 1), block('network', [], [block('port', ['http'], [])])]),
          block('meta', [], [attr('a', 'b')]),
        ],
      ),
    ]);
    expect(text).to.equal(
      [
        'job "j" {',
        '  region      = "global"',
        '  datacenters = ["dc1", "dc2"]',
        '  priority    = 50',
        '',
        '  group "g" {',
        '    count = 1',
        '',
        '    network {',
        '      port "http" {}',
        '    }',
        '  }',
        '',
        '  meta {',
        '    a = "b"',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('keeps a heredoc inside the aligned run, as hclwrite treats it as one line', () => {
    const text = formatHcl([block('template', [], [attr('destination', 'local/x'), attr('data', 'a\nb\n'), attr('env', true)])]);
    expect(text).to.equal('template {\n  destination = "local/x"\n  data        = <<EOT\na\nb\nEOT\n  env         = true\n}\n');
  });

  it('escapes quotes, backslashes, control characters and template introducers in quoted strings', () => {
    expect(quoteString('say "hi"')).to.equal('"say \\"hi\\""');
    expect(quoteString('C:\\x')).to.equal('"C:\\\\x"');
    expect(quoteString('a\nb\r\tc')).to.equal('"a\\nb\\r\\tc"');
    expect(quoteString('bell\u0007\u007f')).to.equal('"bell\\u0007\\u007f"');
    expect(quoteString('%{ if x }')).to.equal('"%%{ if x }"');
    expect(quoteString('😀 ü')).to.equal('"😀 ü"');
  });

  // quoteString skips its per-character loop when one scan finds nothing to escape: that scan must catch every
  // code unit the loop escapes, alone and beside plain text.
  it('escapes each of the 65,536 UTF-16 code units as the rules say, on the fast path and the slow one', () => {
    const invisible = (c: number) =>
      c === 0xad || c === 0x61c || (c >= 0x200b && c <= 0x200f) || (c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x2069) || c === 0xfeff;
    const named: Record<number, string> = { 0x22: '\\"', 0x5c: '\\\\', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t' };
    const wrong: string[] = [];
    for (let c = 0; c <= 0xffff; c++) {
      const ch = String.fromCharCode(c);
      const expected = named[c] ?? (c < 0x20 || (c >= 0x7f && c <= 0x9f) || invisible(c) ? `\\u${c.toString(16).padStart(4, '0')}` : ch);
      if (quoteString(`plain ${ch}`) !== `"plain ${expected}"` || quoteString(`${ch}"`) !== `"${expected}\\""`) wrong.push(c.toString(16));
    }
    expect(wrong).to.deep.equal([]);
  });

  // Regression: a bidi override or a zero-width space in a value was written raw into the job file, which then read
  // differently from what it holds (in an editor, a review, `nomad job inspect`).
  it('writes invisible and direction-changing characters as escapes that read back as themselves', () => {
    const value = 'x\u202ey\u200b\u2066z\u0085\ufeff';
    expect(quoteString(value)).to.equal('"x\\u202ey\\u200b\\u2066z\\u0085\\ufeff"');
    expect(parseHcl(`a = ${quoteString(value)}\n`)).to.deep.equal({ a: value });
    expect(usesHeredoc('line\u202e one\nline two\n')).to.equal(false);
  });

  it('keeps plain run-time references and escapes every other ${', () => {
    expect(escapeTemplate('${attr.kernel.name}')).to.equal('${attr.kernel.name}');
    expect(escapeTemplate('${NOMAD_PORT_http}:${attr.unique.network.ip-address}')).to.equal('${NOMAD_PORT_http}:${attr.unique.network.ip-address}');
    // jobspec2 defines var and local: they would be evaluated.
    expect(escapeTemplate('${var.region} ${local.x} ${var}')).to.equal('$${var.region} $${local.x} $${var}');
    // After a `$`, `${` would read as the `$${` escape.
    expect(escapeTemplate('$${node.class}')).to.equal('$$${node.class}');
    // Before a `}` jobspec2 rebuilds the reference wrongly (regression: "${a.b}}" came back as "${a.b}}}").
    expect(escapeTemplate('${a.b}} ${a.b} }')).to.equal('$${a.b}} $${a.b} }');
    // Anything that is not a plain reference.
    expect(escapeTemplate('${upper("x")} ${ a.b } ${a[0]} ${')).to.equal('$${upper("x")} $${ a.b } $${a[0]} $${');
  });

  it('writes multi-line strings ending in a newline as heredocs, with a marker no line can close', () => {
    expect(usesHeredoc('a\nb\n')).to.equal(true);
    expect(usesHeredoc('a\nb')).to.equal(false);
    expect(usesHeredoc('one line\n')).to.equal(false);
    expect(usesHeredoc('a\r\nb\n')).to.equal(false);
    const text = formatHcl([attr('data', 'EOT\n  EOT\nEOT1 \nx\n')]);
    expect(text).to.equal('data = <<EOT2\nEOT\n  EOT\nEOT1 \nx\nEOT2\n');
  });

  it('refuses names that are not identifiers and numbers it cannot write exactly', () => {
    expect(() => formatHcl([attr('a.b', 1)])).to.throw(/not an identifier/);
    expect(() => formatHcl([attr('a', Number.NaN)])).to.throw(/cannot write/);
    expect(() => formatHcl([attr('a', 1e21)])).to.throw(/exponent/);
  });

  it('round-trips fixed adversarial strings through hcl2-parser', () => {
    const samples = [
      '',
      '"',
      '\\',
      '\\n',
      '$',
      '$$',
      '${',
      '$${',
      '$$${x}',
      '%{',
      '%%{',
      '%%%{ x }',
      '${attr.kernel.name}',
      '${a.b}}',
      '{{ key "x" }}',
      'EOT',
      'a\nEOT\n',
      '\tindented\n  more\n',
      'trailing \n',
      '😀👍🏽 ünïcödé 日本語',
      'ctrl \u0001\u001f\u007f',
      'crlf\r\nx',
    ];
    for (const s of samples) {
      const text = formatHcl([block('job', ['j'], [attr('a', s), attr('l', [s, 'x'])])]);
      expect(parsedAttr(text, 'a'), JSON.stringify(s)).to.equal(s);
      expect(parsedAttr(text, 'l'), JSON.stringify(s)).to.deep.equal([s, 'x']);
    }
  });

  it('round-trips generated adversarial strings through hcl2-parser (300 cases)', function () {
    this.timeout(60_000);
    // HCL (cty) normalizes strings to NFC; the spec loader does the same on input.
    const nfc = adversarialString().map((s) => s.normalize('NFC'));
    fc.assert(
      fc.property(nfc, nfc, (a, b) => {
        const text = formatHcl([block('job', ['j'], [attr('a', a), attr('b', `${b}\n${a}\n`), attr('l', [a, b])])]);
        expect(parsedAttr(text, 'a')).to.equal(a);
        expect(parsedAttr(text, 'b')).to.equal(`${b}\n${a}\n`);
        expect(parsedAttr(text, 'l')).to.deep.equal([a, b]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('hcl2-parser adapter', () => {
  it('returns hcl2json objects as unknown-checked records', () => {
    const doc = parseHcl('job "a" {\n  x = 1\n}\n');
    expect(doc).to.deep.equal({ job: { a: [{ x: 1 }] } });
  });

  it('surfaces a failure as HclParseError instead of an empty result', () => {
    expect(() => parseHcl('job "a" {\n  x = \n}\n')).to.throw(HclParseError, /not valid HCL2/);
    expect(() => parseHcl('job "a" {')).to.throw(HclParseError);
  });
});

describe('durations', () => {
  it('parses Go durations to nanoseconds', () => {
    expect(parseDuration('30s')).to.equal(30e9);
    expect(parseDuration('1m30s')).to.equal(90e9);
    expect(parseDuration('1.5h')).to.equal(5400e9);
    expect(parseDuration('250ms')).to.equal(250e6);
    expect(parseDuration('2us')).to.equal(2000);
    expect(parseDuration('0')).to.equal(0);
    expect(parseDuration('10')).to.equal(undefined);
    expect(parseDuration('1d')).to.equal(undefined);
    expect(parseDuration('s')).to.equal(undefined);
    expect(parseDuration('')).to.equal(undefined);
  });

  it('formats nanoseconds as the shortest Go duration that parses back', () => {
    expect(formatDuration(300e9)).to.equal('5m');
    expect(formatDuration(90e9)).to.equal('1m30s');
    expect(formatDuration(1.5e9)).to.equal('1s500ms');
    expect(formatDuration(0)).to.equal('0s');
    expect(formatDuration(3_723_004_005_006)).to.equal('1h2m3s4ms5us6ns');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 50 }), (n) => {
        expect(parseDuration(formatDuration(n))).to.equal(n);
      }),
    );
  });
});

describe('hcl writer: object values (driver config maps from the nomad: escape hatch)', () => {
  it('writes an object across lines as nomad fmt does: its line leaves the = alignment, keys inside aligned, odd keys quoted', () => {
    // The expected text is hclwrite.Format's output for the same input (Nomad's `nomad fmt`).
    const text = formatHcl([
      block(
        'job',
        ['a'],
        [
          attr('image', 'x'),
          attr('bb', 'y'),
          attr(
            'labels',
            object([
              ['a', 'b'],
              ['x.y', 'c'],
            ]),
          ),
          attr('z', 1),
          attr('zzzzzz', 2),
          attr('e', object([])),
        ],
      ),
    ]);
    expect(text).to.equal(
      'job "a" {\n  image = "x"\n  bb    = "y"\n  labels = {\n    a     = "b"\n    "x.y" = "c"\n  }\n  z      = 1\n  zzzzzz = 2\n  e      = {}\n}\n',
    );
    expect(parsedAttr(text.replace('job "a"', 'job "j"'), 'labels')).to.deep.equal({ a: 'b', 'x.y': 'c' });
  });
});
