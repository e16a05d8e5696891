/**
 * Structural validation of a YAML document against a {@link Schema}, keeping the
 * position of every value. Every problem is collected; invalid values are left
 * out of the result so that semantic checks can still run on the rest.
 */
import { createRequire } from 'node:module';
import type { CST, Document, Node as YamlNode } from 'yaml';
import { escapeText, excerpt, type InputProblem, type SourcePosition } from '../errors.js';
import { DURATION_PATTERN, type Schema } from './dsl.js';
import { memoized, parseDuration } from './duration.js';
import { suggest } from './suggest.js';
import { LineCounter } from './lines.js';
import { readCommonYaml, type SpecMap, type SpecNode } from './yaml-fast.js';

/**
 * The full YAML parser, loaded the first time a file is not plain block YAML
 * (yaml-fast.ts reads the common case; most runs never need the parser).
 */
let yamlLibrary: typeof import('yaml') | undefined;
function yaml(): typeof import('yaml') {
  return (yamlLibrary ??= createRequire(import.meta.url)('yaml') as typeof import('yaml'));
}

/**
 * One string per distinct path, shared by the source maps of every file: 1,000
 * specs hold some 200,000 positions under a few thousand distinct paths, and a
 * copy of each path per file was a third of what loading kept (18.9 → 13.6 MB
 * retained, 12 ms less garbage collection over the 1,000 bench specs). Emptied
 * when it grows past {@link MaxInterned} (hostile keys), which only costs sharing.
 */
const INTERNED = new Map<string, string>();
const MaxInterned = 65_536;

/** Positions of the values of one file, by dotted path. */
export class SourceMap {
  /** A position, or an offset in the file that `lc` turns into one when it is asked for (most never are). */
  readonly #positions = new Map<string, SourcePosition | number>();
  constructor(
    readonly file: string,
    readonly lc?: LineCounter,
  ) {}

  set(path: string, at: SourcePosition): void {
    this.#positions.set(path, at);
  }

  /** Record where the value at `path` starts, as an offset into the text `lc` counted. */
  setOffset(path: string, offset: number): void {
    let p = INTERNED.get(path);
    if (p === undefined) {
      if (INTERNED.size >= MaxInterned) INTERNED.clear();
      INTERNED.set(path, (p = path));
    }
    this.#positions.set(p, offset);
  }

  /** The position of `path`, or of its nearest ancestor, or the file's start. */
  at(path: string): SourcePosition {
    let p = path;
    for (;;) {
      const hit = this.#positions.get(p);
      if (typeof hit === 'number') return { file: this.file, ...linePos(this.lc, hit) };
      if (hit !== undefined) return hit;
      if (p === '') return { file: this.file, line: 1, col: 1 };
      p = parentPath(p);
    }
  }

  has(path: string): boolean {
    return this.#positions.has(path);
  }

  readonly #invalid = new Set<string>();

  /** Record that the value at `path` had a structural problem. */
  markInvalid(path: string): void {
    this.#invalid.add(path);
  }

  /**
   * Whether `path` or one of its ancestors had a structural problem: semantic
   * checks stay quiet there rather than report a consequence of the same mistake.
   */
  isInvalid(path: string): boolean {
    for (let p = path; ; p = parentPath(p)) {
      if (this.#invalid.has(p)) return true;
      if (p === '') return false;
    }
  }
}

function linePos(lc: LineCounter | undefined, offset: number): { line: number; col: number } {
  return lc === undefined ? { line: 1, col: 1 } : lc.linePos(offset);
}

const BARE_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;
/** Whether a key is bare, remembered (schema keys repeat in every file). */
const isBare = memoized((key: string) => BARE_KEY.test(key));

/** `a.b` for identifier-like keys, `a["x.y"]` otherwise. */
export function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (!isBare(key)) return `${path}[${JSON.stringify(key)}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** The path one level up (`a.b[2]` → `a.b`, `a.b` → `a`). */
export function parentPath(path: string): string {
  const m = /^(.*?)(?:\.[^.[\]]+|\[[^\]]*\])$/.exec(path);
  if (m !== null && m[1] !== undefined) return m[1];
  return '';
}

/** How a path is shown in a problem. */
export function subjectOf(path: string): string {
  return path === '' ? '(document)' : excerpt(path, 200);
}

/**
 * Limits on one spec file: hostile input is refused in bounded time and memory
 * (docs/spec.md, "Limits").
 */
export const SpecLimits = {
  /** Bytes in one file (1 MiB). */
  fileBytes: 1024 * 1024,
  /** Levels of maps and lists inside each other. */
  depth: 64,
  /** Aliases (`*name`) in one file. */
  aliases: 100,
  /** Values read from one file; each use of an alias counts its anchor's values again. */
  values: 100_000,
} as const;

/** The result of reading one file. */
export interface Checked<T> {
  readonly file: string;
  /** The valid parts of the document; undefined when the root itself is unusable. */
  readonly value: T | undefined;
  readonly positions: SourceMap;
  readonly problems: readonly InputProblem[];
}

interface Ctx {
  readonly file: string;
  readonly lc: LineCounter;
  readonly positions: SourceMap;
  readonly problems: InputProblem[];
  /** Values walked so far (see SpecLimits.values). */
  values: number;
}

/** Thrown inside the walk when a file expands to too many values. */
class TooManyValues {
  constructor(readonly at: SourcePosition) {}
}

/**
 * Why a YAML error may be on a line that looks right: a space YAML does not take as
 * one (U+00A0 no-break, U+3000 ideographic…) or a full-width colon, named; '' otherwise.
 */
function oddSpaceOn(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  const end = text.indexOf('\n', offset);
  const m = /[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\uff1a]/.exec(text.slice(start, end < 0 ? undefined : end));
  if (m === null) return '';
  const cp = m[0].codePointAt(0)!;
  const what = cp === 0xff1a ? 'a full-width colon; YAML needs `:`' : 'a space YAML does not take as one; use plain spaces';
  return ` (the line holds U+${cp.toString(16).toUpperCase().padStart(4, '0')} at column ${m.index + 1}, ${what})`;
}

/**
 * What makes a key that looks right wrong: its first visible character that is not
 * plain ASCII (`nаme` with a Cyrillic а reads as `name`), named by its code point.
 */
function lookalike(key: string): string {
  // Characters the message escapes (`\u200b`) already show; a visible one does not.
  const c = [...key].find((ch) => ch.codePointAt(0)! > 0x7e && escapeText(ch) === ch);
  if (c === undefined) return '';
  return ` (it holds U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}, which is not ASCII; keys are plain ASCII)`;
}

/** Keys that name JavaScript's own properties: never taken as map keys. */
const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

function pos(ctx: Ctx, node: SpecNode | null | undefined, fallbackPath: string): SourcePosition {
  const offset = node?.at;
  if (offset === undefined) return ctx.positions.at(parentPath(fallbackPath));
  const { line, col } = ctx.lc.linePos(offset);
  return { file: ctx.file, line, col };
}

function problem(ctx: Ctx, at: SourcePosition, path: string, message: string): void {
  ctx.problems.push({ at, subject: subjectOf(path), message });
  ctx.positions.markInvalid(path);
}

/**
 * A stand-in for a required value that is missing or invalid (already reported),
 * so that semantic checks can run on the rest of the document with the same
 * list indexes; problems under a stand-in are suppressed (see SourceMap.isInvalid).
 */
function standIn(s: Schema): unknown {
  switch (s.type) {
    case 'string':
      return '';
    case 'integer':
    case 'number':
      return 0;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'map':
    case 'any':
      return {};
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const k of s.required ?? []) out[k] = standIn(s.properties[k]!);
      return out;
    }
  }
}

function describe(node: SpecNode | null | undefined): string {
  if (node === null || node === undefined) return 'nothing';
  if (node.kind === 'map') return 'a map';
  if (node.kind === 'seq') return 'a list';
  if (node.kind === 'scalar') {
    const v = node.value;
    if (v === null) return 'nothing';
    if (typeof v === 'string') return `the text "${excerpt(v)}"`;
    const source = excerpt(node.source);
    if (typeof v === 'number' || typeof v === 'bigint') return `the number ${source}`;
    if (typeof v === 'boolean') return `the boolean ${source}`;
    return `a ${typeof v}`;
  }
  return 'an unsupported value';
}

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

const TYPE_WORD: Record<Schema['type'], string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  object: 'a map',
  map: 'a map',
  array: 'a list',
  any: 'a value',
};

/** A YAML value as plain data, recording the position of every nested value (`any` schemas). */
function plain(ctx: Ctx, raw: SpecNode | null | undefined, path: string): unknown {
  const node = raw?.kind === 'alias' ? raw.target : raw;
  if (++ctx.values > SpecLimits.values) throw new TooManyValues(pos(ctx, raw, path));
  if (raw !== null && raw !== undefined) ctx.positions.setOffset(path, raw.at);
  if (node?.kind === 'map') {
    const out: Record<string, unknown> = {};
    for (const pair of node.pairs) {
      const keyNode = pair.key;
      if (keyNode?.kind !== 'scalar' || (typeof keyNode.value !== 'string' && typeof keyNode.value !== 'number')) {
        problem(ctx, pos(ctx, keyNode, path), path, `keys must be plain text, got ${describe(keyNode)}`);
        continue;
      }
      const key = String(keyNode.value);
      if (RESERVED_KEYS.has(key)) {
        problem(ctx, pos(ctx, keyNode, path), path, `key \`${key}\` is not allowed: it names a built-in JavaScript property and would be lost`);
        continue;
      }
      out[key] = plain(ctx, pair.value, childPath(path, key));
    }
    return out;
  }
  if (node?.kind === 'seq') return node.items.map((item, i) => plain(ctx, item, childPath(path, i)));
  if (node?.kind === 'scalar') return typeof node.value === 'string' ? node.value.normalize('NFC') : node.value;
  return null;
}

/** The problem of a value of the wrong type; always undefined (the value is left out). */
function mismatch(ctx: Ctx, raw: SpecNode | null | undefined, node: SpecNode | null | undefined, schema: Schema, path: string): undefined {
  let msg = `expected ${TYPE_WORD[schema.type]}, got ${describe(node)}`;
  if (schema.type === 'string' && node?.kind === 'scalar' && node.value !== null && typeof node.value !== 'string') {
    msg += `; quote it to keep it text: "${excerpt(node.source)}"`;
  }
  problem(ctx, pos(ctx, raw, path), path, msg);
  return undefined;
}

function walk(ctx: Ctx, raw: SpecNode | null | undefined, schema: Schema, path: string): unknown {
  const node = raw?.kind === 'alias' ? raw.target : raw;
  // Positions are offsets until a message needs a line and column (pos(), only when there is a problem).
  if (++ctx.values > SpecLimits.values) throw new TooManyValues(pos(ctx, raw, path));
  if (raw !== null && raw !== undefined) ctx.positions.setOffset(path, raw.at);

  switch (schema.type) {
    case 'any':
      return plain(ctx, raw, path);
    case 'string': {
      // A string schema may take an integer as its decimal text (`port: 8080`).
      const text = schema.integerAsText === true && node?.kind === 'scalar' && Number.isSafeInteger(node.value) ? String(node.value) : undefined;
      if (text === undefined && (node?.kind !== 'scalar' || typeof node.value !== 'string')) return mismatch(ctx, raw, node, schema, path);
      // NFC, as HCL (cty) normalizes every string: the JSON and the HCL then carry the same text.
      const v = (text ?? (node as { value: string }).value).normalize('NFC');
      if (LONE_SURROGATE.test(v)) {
        problem(ctx, pos(ctx, raw, path), path, 'contains a lone UTF-16 surrogate');
        return undefined;
      }
      if (schema.enum !== undefined && !schema.enum.includes(v)) {
        const hint = suggest(v, schema.enum);
        problem(
          ctx,
          pos(ctx, raw, path),
          path,
          `\`${excerpt(v)}\` is not one of ${schema.enum.join(', ')}${hint === undefined ? '' : `; did you mean \`${hint}\`?`}`,
        );
        return undefined;
      }
      if (schema.format === 'duration') {
        const ns = DURATION_PATTERN.test(v) ? parseDuration(v) : undefined;
        if (ns === undefined) {
          problem(ctx, pos(ctx, raw, path), path, `\`${excerpt(v)}\` is not a duration (write e.g. 500ms, 30s, 1m30s or 2h)`);
          return undefined;
        }
        if (ns < 0) {
          problem(ctx, pos(ctx, raw, path), path, `\`${excerpt(v)}\` must not be negative`);
          return undefined;
        }
      }
      if (schema.pattern !== undefined && !schema.pattern.test(v)) {
        problem(ctx, pos(ctx, raw, path), path, `\`${excerpt(v)}\` is not valid: ${schema.hint ?? `must match ${schema.pattern.source}`}`);
        return undefined;
      }
      if (schema.maxLength !== undefined && v.length > schema.maxLength) {
        problem(ctx, pos(ctx, raw, path), path, `is ${v.length} characters long; at most ${schema.maxLength} are allowed`);
        return undefined;
      }
      return v;
    }
    case 'integer':
    case 'number': {
      if (node?.kind !== 'scalar' || typeof node.value !== 'number') return mismatch(ctx, raw, node, schema, path);
      const v = node.value;
      if (schema.type === 'integer' && !Number.isSafeInteger(v)) {
        problem(ctx, pos(ctx, raw, path), path, `expected an integer, got ${excerpt(node.source)}`);
        return undefined;
      }
      if (!Number.isFinite(v)) {
        problem(ctx, pos(ctx, raw, path), path, `expected a finite number, got ${excerpt(node.source)}`);
        return undefined;
      }
      if (schema.minimum !== undefined && v < schema.minimum) {
        problem(ctx, pos(ctx, raw, path), path, `must be at least ${schema.minimum} (got ${v})`);
        return undefined;
      }
      if (schema.maximum !== undefined && v > schema.maximum) {
        problem(ctx, pos(ctx, raw, path), path, `must be at most ${schema.maximum} (got ${v})`);
        return undefined;
      }
      return v;
    }
    case 'boolean':
      if (node?.kind !== 'scalar' || typeof node.value !== 'boolean') return mismatch(ctx, raw, node, schema, path);
      return node.value;
    case 'array': {
      if (node?.kind !== 'seq') return mismatch(ctx, raw, node, schema, path);
      const out: unknown[] = [];
      node.items.forEach((item, i) => {
        const p = childPath(path, i);
        const v = walk(ctx, item, schema.items, p);
        out.push(v === undefined ? standIn(schema.items) : v);
        if (v === undefined) ctx.positions.markInvalid(p);
      });
      if (schema.minItems !== undefined && node.items.length < schema.minItems) {
        problem(ctx, pos(ctx, raw, path), path, `needs at least ${schema.minItems} item${schema.minItems === 1 ? '' : 's'}`);
      }
      return out;
    }
    case 'object':
    case 'map': {
      if (node?.kind !== 'map') return mismatch(ctx, raw, node, schema, path);
      const out: Record<string, unknown> = {};
      const seen = new Map<string, SpecNode>();
      for (const pair of node.pairs) {
        const keyNode = pair.key;
        if (keyNode?.kind !== 'scalar' || (typeof keyNode.value !== 'string' && typeof keyNode.value !== 'number')) {
          problem(ctx, pos(ctx, keyNode, path), path, `keys must be plain text, got ${describe(keyNode)}`);
          continue;
        }
        const key = String(keyNode.value);
        const p = childPath(path, key);
        const first = seen.get(key);
        if (first !== undefined) {
          problem(ctx, pos(ctx, keyNode, path), p, `duplicate key \`${excerpt(key)}\` (first at line ${pos(ctx, first, path).line})`);
          continue;
        }
        seen.set(key, keyNode);
        let valueSchema: Schema;
        if (schema.type === 'object') {
          const known = Object.hasOwn(schema.properties, key) ? schema.properties[key] : undefined;
          if (known === undefined) {
            const names = Object.keys(schema.properties).filter((k) => k !== '$schema');
            const hint = suggest(key, names);
            problem(
              ctx,
              pos(ctx, keyNode, path),
              p,
              (hint === undefined
                ? `unknown key \`${excerpt(key)}\` (allowed here: ${names.join(', ')})`
                : `unknown key \`${excerpt(key)}\`; did you mean \`${hint}\`?`) + lookalike(key),
            );
            continue;
          }
          valueSchema = known;
        } else {
          if (RESERVED_KEYS.has(key)) {
            problem(ctx, pos(ctx, keyNode, path), p, `key \`${key}\` is not allowed: it names a built-in JavaScript property and would be lost`);
            continue;
          }
          if (!schema.keyPattern.test(key)) {
            problem(ctx, pos(ctx, keyNode, path), p, `key \`${excerpt(key)}\` is not valid: ${schema.keyHint}`);
            continue;
          }
          valueSchema = schema.values;
        }
        const v = walk(ctx, pair.value, valueSchema, p);
        if (v !== undefined) out[key] = v;
        else if (schema.type === 'map') out[key] = standIn(valueSchema);
      }
      if (schema.type === 'object') {
        for (const req of schema.required ?? []) {
          if (!seen.has(req)) problem(ctx, pos(ctx, raw, path), childPath(path, req), `required key \`${req}\` is missing`);
          if (out[req] === undefined) {
            out[req] = standIn(schema.properties[req]!);
            ctx.positions.markInvalid(childPath(path, req));
          }
        }
      }
      return out;
    }
  }
}

/** A parsed spec file: its one document, or the problems that stop reading it. */
export interface ParsedYaml {
  readonly file: string;
  /** The document's root node (null when empty); undefined when the text could not be read as one YAML document within the limits. */
  readonly contents: SpecNode | null | undefined;
  readonly lc: LineCounter;
  /** Problems found while parsing; when there is any, `contents` is undefined. */
  readonly problems: readonly InputProblem[];
}

/** The offset of the first collection nested deeper than the limit, walking the syntax tree without recursion. */
function tooDeep(tokens: readonly CST.Token[]): number | undefined {
  const stack: [CST.Token | undefined, number][] = tokens.map((t) => [t, 0]);
  while (stack.length > 0) {
    const [t, d] = stack.pop()!;
    if (t === undefined) continue;
    if (t.type === 'document') stack.push([t.value, d]);
    else if (t.type === 'block-map' || t.type === 'block-seq' || t.type === 'flow-collection') {
      if (d + 1 > SpecLimits.depth) return t.offset;
      for (const it of t.items) {
        stack.push([it.value, d + 1]);
        if ('key' in it) stack.push([it.key ?? undefined, d + 1]);
      }
    }
  }
  return undefined;
}

/**
 * The tags a spec may carry: those of the core schema, which only restate a plain
 * value's type (`!!str 12`), and `!` (text). Any other (`!!binary`, `!!set`,
 * `!!timestamp`, `!custom`) would be read as something no key takes, or silently
 * ignored.
 */
const CORE_TAGS: ReadonlySet<string> = new Set(['!', ...['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`)]);

/**
 * Parse the text of one spec file: one YAML document, within {@link SpecLimits}
 * (size, depth, aliases), in time linear in its size. A leading byte order mark
 * is ignored, so columns are those an editor shows. Pure.
 */
export function parseYaml(file: string, text: string): ParsedYaml {
  const lc = new LineCounter();
  const problems: InputProblem[] = [];
  const at = (offset: number): SourcePosition => ({ file, ...lc.linePos(offset) });
  const fail = (offset: number, message: string): ParsedYaml => {
    problems.push({ at: at(offset), subject: '(yaml)', message });
    return { file, contents: undefined, lc, problems };
  };
  const unmarked = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  // YAML's line breaks are LF, CR LF and CR, each read as LF (YAML 1.2, 5.4). The parser takes a lone CR for
  // content: a file saved with CR line ends (or ending in one CR) failed with "Nested mappings are not allowed in
  // compact mappings", or kept the CR in its last value. Lines and columns are unchanged.
  const body = unmarked.includes('\r') ? unmarked.replace(/\r\n?/g, '\n') : unmarked;
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > SpecLimits.fileBytes) {
    problems.push({
      at: { file, line: 1, col: 1 },
      subject: '(file)',
      message: `is ${bytes} bytes; a spec file may hold at most ${SpecLimits.fileBytes} bytes (1 MiB)`,
    });
    return { file, contents: undefined, lc, problems };
  }
  // The common case (plain block YAML) is read about ten times faster than the full parser reads it.
  const common = readCommonYaml(body, lc, SpecLimits.depth);
  if (common !== undefined) return { file, contents: common, lc, problems };
  const { Composer, isAlias, isMap, isScalar, isSeq, Parser } = yaml();
  const tokens = [...new Parser(lc.addNewLine).parse(body)];
  const deep = tooDeep(tokens);
  if (deep !== undefined) return fail(deep, `maps and lists are nested more than ${SpecLimits.depth} levels deep here; a spec needs far fewer`);
  const composer = new Composer({ prettyErrors: false, uniqueKeys: false, strict: true });
  let doc: Document | undefined;
  for (const d of composer.compose(tokens, true, body.length)) {
    if (doc === undefined) doc = d as Document;
    else return fail(d.range[0], 'a spec file holds one YAML document; found a second one here (remove the `---` line, or put each spec in its own file)');
  }
  if (doc === undefined) return fail(0, 'the file is empty');
  for (const e of doc.errors) {
    problems.push({ at: at(e.pos[0]), subject: '(yaml)', message: `YAML: ${excerpt(e.message.split('\n')[0] ?? '', 300)}${oddSpaceOn(body, e.pos[0])}` });
  }
  if (problems.length > 0) return { file, contents: undefined, lc, problems };
  // Converted in document order, so that an alias names the nearest anchor before it.
  const anchors = new Map<string, SpecNode>();
  let count = 0;
  let failed: ParsedYaml | undefined;
  const convert = (n: unknown): SpecNode | null => {
    if (n === null || n === undefined || failed !== undefined) return null;
    if (isAlias(n)) {
      const offset = n.range?.[0] ?? 0;
      if (++count > SpecLimits.aliases) {
        failed = fail(offset, `more than ${SpecLimits.aliases} YAML aliases (\`*name\`) in one file`);
        return null;
      }
      const target = anchors.get(n.source);
      if (target === undefined) {
        failed = fail(offset, `the alias \`*${excerpt(n.source)}\` names no anchor (\`&${excerpt(n.source)}\`) defined before it`);
        return null;
      }
      return { kind: 'alias', at: offset, name: n.source, target };
    }
    const node = n as YamlNode;
    const at = node.range?.[0] ?? 0;
    const tag = (node as { tag?: unknown }).tag;
    if (typeof tag === 'string' && !CORE_TAGS.has(tag)) {
      const shown = tag.startsWith('tag:yaml.org,2002:') ? `!!${tag.slice('tag:yaml.org,2002:'.length)}` : tag;
      failed = fail(
        at,
        `the YAML tag \`${excerpt(shown)}\` is not supported: a spec holds plain maps, lists, text, numbers and booleans (remove the tag; quote a value to keep it text)`,
      );
      return null;
    }
    let out: SpecNode;
    if (isMap(node)) {
      const pairs: SpecMap['pairs'] = [];
      out = { kind: 'map', at, pairs };
      if (typeof node.anchor === 'string') anchors.set(node.anchor, out);
      for (const p of node.items) {
        const key = convert(p.key);
        pairs.push({ key, value: convert(p.value) });
      }
    } else if (isSeq(node)) {
      const items: (SpecNode | null)[] = [];
      out = { kind: 'seq', at, items };
      if (typeof node.anchor === 'string') anchors.set(node.anchor, out);
      for (const it of node.items) items.push(convert(it));
    } else {
      const value = isScalar(node) ? node.value : undefined;
      out = { kind: 'scalar', at, value, source: isScalar(node) && typeof node.source === 'string' ? node.source : String(value) };
      if (typeof node.anchor === 'string') anchors.set(node.anchor, out);
    }
    return out;
  };
  const contents = convert(doc.contents);
  return failed ?? { file, contents, lc, problems };
}

/**
 * Check a parsed file against a schema.
 * @see checkYaml
 */
export function checkParsed<T>(parsed: ParsedYaml, schema: Schema): Checked<T> {
  const { file, contents, lc } = parsed;
  const positions = new SourceMap(file, lc);
  const problems: InputProblem[] = [...parsed.problems];
  if (contents === undefined) return { file, value: undefined, positions, problems };
  const root = contents;
  if (root === null) {
    problems.push({ at: { file, line: 1, col: 1 }, subject: '(document)', message: 'the file is empty' });
    return { file, value: undefined, positions, problems };
  }
  const ctx: Ctx = { file, lc, positions, problems, values: 0 };
  try {
    const value = walk(ctx, root, schema, '') as T | undefined;
    return { file, value, positions, problems };
  } catch (e) {
    if (!(e instanceof TooManyValues)) throw e;
    problems.push({
      at: e.at,
      subject: '(yaml)',
      message: `the file holds more than ${SpecLimits.values} values (each use of an alias \`*name\` counts its anchor's values again); a spec needs far fewer`,
    });
    return { file, value: undefined, positions, problems };
  }
}

/**
 * Parse YAML text and check it against a schema. Pure: the text is passed in.
 * @param file the name used in positions (as the user gave it).
 */
export function checkYaml<T>(file: string, text: string, schema: Schema): Checked<T> {
  return checkParsed(parseYaml(file, text), schema);
}
