/**
 * Structural validation of a YAML document against a {@link Schema}, keeping the
 * position of every value. Every problem is collected; invalid values are left
 * out of the result so that semantic checks can still run on the rest.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { InputProblem, SourcePosition } from '../errors.js';
import { DURATION_PATTERN, type Schema } from './dsl.js';
import { parseDuration } from './duration.js';
import { suggest } from './suggest.js';

/** Positions of the values of one file, by dotted path. */
export class SourceMap {
  readonly #positions = new Map<string, SourcePosition>();
  constructor(readonly file: string) {}

  set(path: string, at: SourcePosition): void {
    this.#positions.set(path, at);
  }

  /** The position of `path`, or of its nearest ancestor, or the file's start. */
  at(path: string): SourcePosition {
    let p = path;
    for (;;) {
      const hit = this.#positions.get(p);
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

const BARE_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** `a.b` for identifier-like keys, `a["x.y"]` otherwise. */
export function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (!BARE_KEY.test(key)) return `${path}[${JSON.stringify(key)}]`;
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
  return path === '' ? '(document)' : path;
}

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
  readonly doc: Document;
  readonly lc: LineCounter;
  readonly positions: SourceMap;
  readonly problems: InputProblem[];
}

function pos(ctx: Ctx, node: YamlNode | null | undefined, fallbackPath: string): SourcePosition {
  const offset = node?.range?.[0];
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

function describe(node: YamlNode | null | undefined): string {
  if (node === null || node === undefined) return 'nothing';
  if (isMap(node)) return 'a map';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'nothing';
    if (typeof v === 'string') return `the text ${JSON.stringify(v)}`;
    const source = typeof node.source === 'string' ? node.source : String(v);
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
function plain(ctx: Ctx, raw: YamlNode | null | undefined, path: string): unknown {
  const node = raw !== null && raw !== undefined && isAlias(raw) ? (raw.resolve(ctx.doc) as YamlNode | undefined) : raw;
  ctx.positions.set(path, pos(ctx, raw, path));
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      const keyNode = pair.key as YamlNode | null;
      if (!isScalar(keyNode) || (typeof keyNode.value !== 'string' && typeof keyNode.value !== 'number')) {
        problem(ctx, pos(ctx, keyNode, path), path, `keys must be plain text, got ${describe(keyNode)}`);
        continue;
      }
      const key = String(keyNode.value);
      out[key] = plain(ctx, pair.value as YamlNode | null, childPath(path, key));
    }
    return out;
  }
  if (isSeq(node)) return node.items.map((item, i) => plain(ctx, item as YamlNode | null, childPath(path, i)));
  if (isScalar(node)) return typeof node.value === 'string' ? node.value.normalize('NFC') : node.value;
  return null;
}

function walk(ctx: Ctx, raw: YamlNode | null | undefined, schema: Schema, path: string): unknown {
  const node = raw !== null && raw !== undefined && isAlias(raw) ? (raw.resolve(ctx.doc) as YamlNode | undefined) : raw;
  const at = pos(ctx, raw, path);
  ctx.positions.set(path, at);
  const mismatch = (): undefined => {
    let msg = `expected ${TYPE_WORD[schema.type]}, got ${describe(node)}`;
    if (schema.type === 'string' && isScalar(node) && node.value !== null && typeof node.value !== 'string') {
      const source = typeof node.source === 'string' ? node.source : String(node.value);
      msg += `; quote it to keep it text: "${source}"`;
    }
    problem(ctx, at, path, msg);
    return undefined;
  };

  switch (schema.type) {
    case 'any':
      return plain(ctx, raw, path);
    case 'string': {
      // A string schema may take an integer as its decimal text (`port: 8080`).
      const text = schema.integerAsText === true && isScalar(node) && Number.isSafeInteger(node.value) ? String(node.value) : undefined;
      if (text === undefined && (!isScalar(node) || typeof node.value !== 'string')) return mismatch();
      // NFC, as HCL (cty) normalizes every string: the JSON and the HCL then carry the same text.
      const v = (text ?? (node as { value: string }).value).normalize('NFC');
      if (LONE_SURROGATE.test(v)) {
        problem(ctx, at, path, 'contains a lone UTF-16 surrogate');
        return undefined;
      }
      if (schema.enum !== undefined && !schema.enum.includes(v)) {
        const hint = suggest(v, schema.enum);
        problem(ctx, at, path, `\`${v}\` is not one of ${schema.enum.join(', ')}${hint === undefined ? '' : `; did you mean \`${hint}\`?`}`);
        return undefined;
      }
      if (schema.format === 'duration') {
        if (!DURATION_PATTERN.test(v) || parseDuration(v) === undefined) {
          problem(ctx, at, path, `\`${v}\` is not a duration (write e.g. 500ms, 30s, 1m30s or 2h)`);
          return undefined;
        }
        if ((parseDuration(v) ?? 0) < 0) {
          problem(ctx, at, path, `\`${v}\` must not be negative`);
          return undefined;
        }
      }
      if (schema.pattern !== undefined && !schema.pattern.test(v)) {
        problem(ctx, at, path, `\`${v}\` is not valid: ${schema.hint ?? `must match ${schema.pattern.source}`}`);
        return undefined;
      }
      if (schema.maxLength !== undefined && v.length > schema.maxLength) {
        problem(ctx, at, path, `is ${v.length} characters long; at most ${schema.maxLength} are allowed`);
        return undefined;
      }
      return v;
    }
    case 'integer':
    case 'number': {
      if (!isScalar(node) || typeof node.value !== 'number') return mismatch();
      const v = node.value;
      if (schema.type === 'integer' && !Number.isSafeInteger(v)) {
        problem(ctx, at, path, `expected an integer, got ${node.source ?? v}`);
        return undefined;
      }
      if (!Number.isFinite(v)) {
        problem(ctx, at, path, `expected a finite number, got ${node.source ?? v}`);
        return undefined;
      }
      if (schema.minimum !== undefined && v < schema.minimum) {
        problem(ctx, at, path, `must be at least ${schema.minimum} (got ${v})`);
        return undefined;
      }
      if (schema.maximum !== undefined && v > schema.maximum) {
        problem(ctx, at, path, `must be at most ${schema.maximum} (got ${v})`);
        return undefined;
      }
      return v;
    }
    case 'boolean':
      if (!isScalar(node) || typeof node.value !== 'boolean') return mismatch();
      return node.value;
    case 'array': {
      if (!isSeq(node)) return mismatch();
      const out: unknown[] = [];
      node.items.forEach((item, i) => {
        const p = childPath(path, i);
        const v = walk(ctx, item as YamlNode | null, schema.items, p);
        out.push(v === undefined ? standIn(schema.items) : v);
        if (v === undefined) ctx.positions.markInvalid(p);
      });
      if (schema.minItems !== undefined && node.items.length < schema.minItems) {
        problem(ctx, at, path, `needs at least ${schema.minItems} item${schema.minItems === 1 ? '' : 's'}`);
      }
      return out;
    }
    case 'object':
    case 'map': {
      if (!isMap(node)) return mismatch();
      const out: Record<string, unknown> = {};
      const seen = new Set<string>();
      for (const pair of node.items) {
        const keyNode = pair.key as YamlNode | null;
        const keyAt = pos(ctx, keyNode, path);
        if (!isScalar(keyNode) || (typeof keyNode.value !== 'string' && typeof keyNode.value !== 'number')) {
          problem(ctx, keyAt, path, `keys must be plain text, got ${describe(keyNode)}`);
          continue;
        }
        const key = String(keyNode.value);
        if (seen.has(key)) continue; // the YAML parser reports duplicate keys
        seen.add(key);
        const p = childPath(path, key);
        let valueSchema: Schema;
        if (schema.type === 'object') {
          const known = schema.properties[key];
          if (known === undefined) {
            const names = Object.keys(schema.properties).filter((k) => k !== '$schema');
            const hint = suggest(key, names);
            problem(
              ctx,
              keyAt,
              p,
              hint === undefined
                ? `unknown key \`${key}\` (allowed here: ${names.join(', ')})`
                : `unknown key \`${key}\`; did you mean \`${hint}\`?`,
            );
            continue;
          }
          valueSchema = known;
        } else {
          if (!schema.keyPattern.test(key)) {
            problem(ctx, keyAt, p, `key \`${key}\` is not valid: ${schema.keyHint}`);
            continue;
          }
          valueSchema = schema.values;
        }
        const v = walk(ctx, pair.value as YamlNode | null, valueSchema, p);
        if (v !== undefined) out[key] = v;
        else if (schema.type === 'map') out[key] = standIn(valueSchema);
      }
      if (schema.type === 'object') {
        for (const req of schema.required ?? []) {
          if (!seen.has(req)) problem(ctx, at, childPath(path, req), `required key \`${req}\` is missing`);
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

/**
 * Parse YAML text and check it against a schema. Pure: the text is passed in.
 * @param file the name used in positions (as the user gave it).
 */
export function checkYaml<T>(file: string, text: string, schema: Schema): Checked<T> {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, strict: true });
  const positions = new SourceMap(file);
  const problems: InputProblem[] = [];
  const ctx: Ctx = { file, doc, lc, positions, problems };
  for (const e of doc.errors) {
    const { line, col } = lc.linePos(e.pos[0]);
    const message = e.code === 'DUPLICATE_KEY' ? 'this key appears twice in the same map' : `YAML: ${e.message.split('\n')[0]}`;
    problems.push({ at: { file, line, col }, subject: '(yaml)', message });
  }
  if (doc.errors.some((e) => e.code !== 'DUPLICATE_KEY')) return { file, value: undefined, positions, problems };
  const root = doc.contents as YamlNode | null;
  if (root === null || (isScalar(root) && root.value === null)) {
    problems.push({ at: { file, line: 1, col: 1 }, subject: '(document)', message: 'the file is empty' });
    return { file, value: undefined, positions, problems };
  }
  const value = walk(ctx, root, schema, '') as T | undefined;
  return { file, value, positions, problems };
}
