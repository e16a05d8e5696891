/**
 * The fast YAML reader against the full parser: on every YAML file of the
 * repository and on thousands of mutations of them, whenever the fast reader
 * answers, the full parser reads the text without error into the same tree
 * (kinds, values, sources, offsets, line starts).
 */
import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Composer, isMap, isScalar, isSeq, LineCounter, Parser } from 'yaml';
import { parseYaml, SpecLimits } from '../../src/service-spec/check.js';
import { readCommonYaml, type SpecNode } from '../../src/service-spec/yaml-fast.js';

/** The full parser, as parseYaml runs it. */
function full(text: string): { root: unknown; errors: number; lc: LineCounter } {
  const lc = new LineCounter();
  const docs = [...new Composer({ prettyErrors: false, uniqueKeys: false, strict: true }).compose(new Parser(lc.addNewLine).parse(text), true, text.length)];
  const errors = docs.reduce((n, d) => n + d.errors.length, 0) + (docs.length === 1 ? 0 : 1);
  return { root: docs[0]?.contents, errors, lc };
}

/** A node of the full parser as comparable data: kind, first offset, value and source. */
function shape(n: unknown): unknown {
  if (n === null || n === undefined) return null;
  if (isMap(n)) return { map: (n.range ?? [])[0], items: n.items.map((p) => [shape(p.key), shape(p.value)]) };
  if (isSeq(n)) return { seq: (n.range ?? [])[0], items: n.items.map(shape) };
  if (isScalar(n)) return scalarShape((n.range ?? [])[0], n.value, n.source);
  return { other: String(n) };
}

/** The same of a node of the fast reader. */
function specShape(n: SpecNode | null): unknown {
  if (n === null) return null;
  switch (n.kind) {
    case 'map':
      return { map: n.at, items: n.pairs.map((p) => [specShape(p.key), specShape(p.value)]) };
    case 'seq':
      return { seq: n.at, items: n.items.map(specShape) };
    case 'scalar':
      return scalarShape(n.at, n.value, n.source);
    default:
      return { other: n.kind };
  }
}

function scalarShape(at: number | undefined, v: unknown, source: unknown): unknown {
  return { at, value: typeof v === 'number' && Number.isNaN(v) ? 'NaN' : v, type: typeof v, source };
}

function yamlFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    if (e === 'node_modules' || e === '.git' || e === 'dist' || e === 'out') continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) yamlFiles(p, out);
    else if (/\.ya?ml$/.test(e)) out.push(p);
  }
  return out;
}

/** Compare both readers on one text; returns whether the fast one answered. */
function same(text: string, name: string): boolean {
  const lc = new LineCounter();
  const fast = readCommonYaml(text, lc, SpecLimits.depth);
  if (fast === undefined) {
    expect(lc.lineStarts, `${name}: line starts left untouched when the fast reader declines`).to.deep.equal([]);
    return false;
  }
  const f = full(text);
  expect(f.errors, `${name}: the fast reader accepted a text the full parser refuses:\n${text}`).to.equal(0);
  expect(specShape(fast), `${name}:\n${text}`).to.deep.equal(shape(f.root));
  expect(lc.lineStarts, name).to.deep.equal(f.lc.lineStarts);
  return true;
}

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  ' ',
  '  ',
  '\n',
  ':',
  ': ',
  '- ',
  '#',
  ' #',
  "'",
  '"',
  '|',
  '|-',
  '|+',
  '>',
  '[',
  ']',
  '{',
  '}',
  ',',
  '&a ',
  '*a',
  '!t ',
  '?',
  '---\n',
  '\\',
  '\\n',
  '0x1F',
  '1e3',
  '.5',
  'null',
  '~',
  'True',
  '-1',
  '0o7',
  '08',
  '\t',
  'é',
  '\r',
];

describe('fast YAML reader', () => {
  const files = yamlFiles('.').sort();

  it('reads every spec and environment of jobs/ and examples/ itself (the common case never takes the slow path)', () => {
    const specs = files.filter((f) => /^(jobs|examples)\//.test(f) && /\/(services|environments)\//.test(f));
    expect(specs.length).to.be.greaterThan(10);
    for (const f of specs) expect(same(readFileSync(f, 'utf8'), f), `${f} was left to the full parser`).to.equal(true);
  });

  it('agrees with the full parser on every YAML file of the repository', () => {
    let answered = 0;
    for (const f of files) if (same(readFileSync(f, 'utf8').replace(/^\uFEFF/, ''), f)) answered++;
    expect(answered).to.be.greaterThan(files.length / 2);
  });

  it('agrees with the full parser on 4,000 mutations of them, or declines', () => {
    const next = rng(20261203);
    const texts = files.map((f) => readFileSync(f, 'utf8')).filter((t) => t.length < 20_000);
    let answered = 0;
    for (let i = 0; i < 4000; i++) {
      let t = texts[Math.floor(next() * texts.length)]!;
      for (let m = 1 + Math.floor(next() * 3); m > 0; m--) {
        const at = Math.floor(next() * (t.length + 1));
        const cut = next() < 0.4 ? Math.floor(next() * 4) : 0;
        t = t.slice(0, at) + PIECES[Math.floor(next() * PIECES.length)]! + t.slice(at + cut);
      }
      if (same(t, `mutation ${i}`)) answered++;
    }
    // Most mutations leave valid, common YAML; the comparison must have had something to compare.
    expect(answered).to.be.greaterThan(1000);
  });

  it('reads scalars as the core schema does', () => {
    const text = [
      'a: 0o17',
      'b: 0x1F',
      'c: +12',
      'd: 1_000',
      'e: .inf',
      'f: -.Inf',
      'g: .NaN',
      'h: 1e3',
      'i: 1.50',
      'j: True',
      'k: FALSE',
      'l: Null',
      'm: ~',
      'n: 08',
      'o: 0b101',
      'p: yes',
      'q: "a\\tb\\u00e9\\x41"',
      "r: 'it''s'",
      's: [1, "x", y, {z: 2}]',
      't: {}',
      'u:',
      'v: http://x:80/a#b',
      'w: a # c',
      'x: |',
      '  one',
      '',
      '  two',
      'y: |-',
      '  three',
      '',
      'z: -Xmx512m',
      'fa: >',
      '  folded',
      '  line',
      '',
      '    more',
      '  end',
      'fb: >-',
      '  x',
      '',
      '',
      '  y',
      'fc: :9999',
      'fd: [-a, -XX:+G1, a:b]',
      '',
    ].join('\n');
    expect(same(text, 'scalars')).to.equal(true);
  });

  it('declines what it does not read: anchors, tags, multi-line scalars, kept block scalars, documents', () => {
    for (const t of [
      'a: &x 1\nb: *x\n',
      'a: !!str 1\n',
      'a: one\n  two\n',
      'a: |+\n  x\n\n',
      '---\na: 1\n',
      'a: 1\n---\nb: 2\n',
      'a: "x\n  y"\n',
      '? a\n: b\n',
      'a:\tb\n',
      'just text\n',
    ]) {
      expect(readCommonYaml(t, new LineCounter(), 64), JSON.stringify(t)).to.equal(undefined);
    }
  });

  it('leaves depth past the limit to the full parser, which reports it', () => {
    const deep = Array.from({ length: SpecLimits.depth + 2 }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n') + ' 1\n';
    expect(readCommonYaml(deep, new LineCounter(), SpecLimits.depth)).to.equal(undefined);
    expect(parseYaml('deep.yaml', deep).problems[0]?.message).to.match(/nested more than 64 levels/);
  });
});
