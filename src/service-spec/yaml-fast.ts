/**
 * A fast reader for the YAML spec files are written in: block maps and lists,
 * one-line scalars (plain, quoted), block scalars (`|`, `>`), one-line flow
 * lists and maps, comments. It builds the same nodes, values and offsets as the
 * `yaml` package's composer (core schema, YAML 1.2), about ten times faster.
 *
 * It reads nothing it is not sure of: anchors, aliases, tags, directives,
 * several documents, multi-line plain or quoted scalars, kept (`|+`) block scalars, tabs,
 * control characters, anything unusual. For those it answers `undefined` and
 * {@link parseYaml} reads the file with the full parser, which also reports
 * every error. So the fast reader never decides whether a file is valid YAML;
 * it only takes the common valid case off the slow path. test/unit/yaml-fast
 * compares both readers on every YAML file of the repository and on generated
 * documents.
 */
import type { LineCounter } from './lines.js';

/**
 * A YAML node as the spec checker reads it (src/service-spec/check.ts): the fast
 * reader builds these directly; the full parser's nodes are converted to them.
 * `at` is the offset where the node starts (a map: its first key; a list: its
 * first `-`; a flow collection: its bracket; a quoted scalar: its quote).
 */
export type SpecNode = SpecMap | SpecSeq | SpecScalar | SpecAlias;
export interface SpecMap {
  readonly kind: 'map';
  readonly at: number;
  readonly pairs: { readonly key: SpecNode | null; readonly value: SpecNode | null }[];
}
export interface SpecSeq {
  readonly kind: 'seq';
  readonly at: number;
  readonly items: (SpecNode | null)[];
}
export interface SpecScalar {
  readonly kind: 'scalar';
  readonly at: number;
  /** The value under the core schema (YAML 1.2): a string, number, boolean or null. */
  readonly value: unknown;
  /** The scalar's text as written (without quotes or escapes): how a number or boolean is shown in messages. */
  readonly source: string;
}
/** An alias (`*name`), with the node its anchor names (only the full parser reads aliases). */
export interface SpecAlias {
  readonly kind: 'alias';
  readonly at: number;
  readonly name: string;
  readonly target: SpecNode;
}

/** Thrown inside the reader when the text leaves the subset it reads. */
class NotCommon {}
const NOT_COMMON = new NotCommon();
function bail(): never {
  throw NOT_COMMON;
}

/** Characters the fast reader leaves to the full parser wherever they occur. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const UNUSUAL = /[\x00-\x09\x0B-\x1F\x7F-\x9F\u2028\u2029\uD800-\uDFFF\uFEFF\uFFFE\uFFFF]/;
/** A first character that makes a plain scalar something else (or an error). */
const INDICATOR = /[?:,[\]{}#&*!|>'"%@`]/;

/** Core schema (YAML 1.2) resolution of a plain scalar, in the `yaml` package's order. */
function resolvePlain(s: string): string | number | boolean | null {
  const c = s.charCodeAt(0);
  // Only these first characters can start a null, bool, int or float.
  if (!(
    c === 0x7e ||
    c === 0x6e ||
    c === 0x4e ||
    c === 0x74 ||
    c === 0x54 ||
    c === 0x66 ||
    c === 0x46 ||
    c === 0x2b ||
    c === 0x2d ||
    c === 0x2e ||
    (c >= 0x30 && c <= 0x39)
  )) {
    return s;
  }
  if (/^(?:~|[Nn]ull|NULL)$/.test(s)) return null;
  if (/^(?:[Tt]rue|TRUE)$/.test(s)) return true;
  if (/^(?:[Ff]alse|FALSE)$/.test(s)) return false;
  if (/^0o[0-7]+$/.test(s)) return parseInt(s.substring(2), 8);
  if (/^[-+]?[0-9]+$/.test(s)) return parseInt(s, 10);
  if (/^0x[0-9a-fA-F]+$/.test(s)) return parseInt(s.substring(2), 16);
  if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(s)) {
    return s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(s) || /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(s)) return parseFloat(s);
  return s;
}

function scalar(value: unknown, source: string, at: number): SpecScalar {
  return { kind: 'scalar', at, value, source };
}

const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\', '"': '"', '/': '/', n: '\n', t: '\t', r: '\r', '0': '\0', ' ': ' ' };

class Reader {
  /** Offsets where each line starts, and where it ends (its newline, or the text's end). */
  readonly starts: number[] = [];
  readonly ends: number[] = [];
  /** Leading spaces of each line. */
  readonly indents: number[] = [];
  depth = 0;

  constructor(
    readonly text: string,
    readonly maxDepth: number,
  ) {
    let s = 0;
    for (;;) {
      const nl = text.indexOf('\n', s);
      this.starts.push(s);
      this.ends.push(nl === -1 ? text.length : nl);
      let i = s;
      while (text.charCodeAt(i) === 0x20) i++;
      this.indents.push(i - s);
      if (nl === -1) break;
      s = nl + 1;
    }
  }

  indent(li: number): number {
    return this.indents[li]!;
  }

  /** Whether line `li` holds nothing but spaces and a comment. */
  empty(li: number): boolean {
    const p = this.starts[li]! + this.indent(li);
    return p === this.ends[li] || this.text.charCodeAt(p) === 0x23;
  }

  /** The next line at or after `li` with content, or the line count. */
  nextContent(li: number): number {
    while (li < this.starts.length && this.empty(li)) li++;
    return li;
  }

  /** The offset of the first non-space at or after `p` on line `li`. */
  skipSpaces(p: number, li: number): number {
    const end = this.ends[li]!;
    while (p < end && this.text.charCodeAt(p) === 0x20) p++;
    return p;
  }

  /** After a value ending at `p` on line `li`: only spaces and a comment may follow. */
  lineRest(p: number, li: number): void {
    const q = this.skipSpaces(p, li);
    if (q === this.ends[li]) return;
    if (this.text.charCodeAt(q) === 0x23 && q > p) return;
    bail();
  }

  isSeqItem(p: number, li: number): boolean {
    return this.text.charCodeAt(p) === 0x2d && (p + 1 === this.ends[li] || this.text.charCodeAt(p + 1) === 0x20);
  }

  /** The document's root: a block map or list at column 0. */
  root(): SpecNode {
    const li = this.nextContent(0);
    if (li === this.starts.length) bail();
    for (let i = 0; i < this.starts.length; i++) {
      const s = this.starts[i]!;
      if (this.text.startsWith('---', s) || this.text.startsWith('...', s) || this.text.charCodeAt(s) === 0x25) bail();
    }
    if (this.indent(li) !== 0) bail();
    const [node, next] = this.collection(li, this.starts[li]!);
    if (this.nextContent(next) !== this.starts.length) bail();
    return node;
  }

  /** A block map or list whose first entry starts at offset `p` of line `li` (its column is the collection's indent). */
  collection(li: number, p: number): [SpecNode, number] {
    if (++this.depth > this.maxDepth) bail();
    const r = this.isSeqItem(p, li) ? this.seq(li, p) : this.map(li, p);
    this.depth--;
    return r;
  }

  seq(li: number, first: number): [SpecSeq, number] {
    const col = first - this.starts[li]!;
    const items: (SpecNode | null)[] = [];
    let p = first;
    for (;;) {
      const q = this.skipSpaces(p + 1, li);
      if (q === this.ends[li] || this.text.charCodeAt(q) === 0x23) {
        const [v, next] = this.blockValue(li, q, col, false);
        items.push(v);
        li = next;
      } else if (this.isSeqItem(q, li)) {
        bail();
      } else if (this.keyEnd(q, li) !== undefined) {
        const [m, next] = this.collection(li, q);
        items.push(m);
        li = next;
      } else {
        const [v, next] = this.inlineValue(li, q, col);
        items.push(v);
        li = next;
      }
      li = this.nextContent(li);
      const next = this.nextEntry(li, col);
      if (next === undefined || !this.isSeqItem(next, li)) break;
      p = next;
    }
    return [{ kind: 'seq', at: first, items }, li];
  }

  /**
   * Where the next entry of a collection at column `col` starts on content line
   * `li`: undefined when the collection ends there (end of text, or a line less
   * indented); a more indented line is left to the full parser.
   */
  nextEntry(li: number, col: number): number | undefined {
    if (li === this.starts.length) return undefined;
    const ind = this.indent(li);
    if (ind < col) return undefined;
    if (ind > col) bail();
    return this.starts[li]! + ind;
  }

  map(li: number, first: number): [SpecMap, number] {
    const col = first - this.starts[li]!;
    const pairs: SpecMap['pairs'] = [];
    let p = first;
    for (;;) {
      const k = this.keyEnd(p, li);
      if (k === undefined) bail();
      const key = this.key(p, k.end);
      const q = this.skipSpaces(k.colon + 1, li);
      let value: SpecNode;
      if (q === this.ends[li] || this.text.charCodeAt(q) === 0x23) {
        [value, li] = this.blockValue(li, q, col, true);
      } else {
        [value, li] = this.inlineValue(li, q, col);
      }
      pairs.push({ key, value });
      li = this.nextContent(li);
      const next = this.nextEntry(li, col);
      if (next === undefined) break;
      if (this.isSeqItem(next, li)) bail();
      p = next;
    }
    return [{ kind: 'map', at: first, pairs }, li];
  }

  /**
   * Where the implicit key starting at `p` ends: the `:` followed by a space or
   * the line's end; undefined when the line holds no key there.
   */
  keyEnd(p: number, li: number): { end: number; colon: number } | undefined {
    const t = this.text;
    const end = this.ends[li]!;
    const c = t.charCodeAt(p);
    if (c === 0x22 || c === 0x27) {
      const close = this.quotedEnd(p, li);
      const colon = this.skipSpaces(close, li);
      if (t.charCodeAt(colon) === 0x3a && (colon + 1 === end || t.charCodeAt(colon + 1) === 0x20)) return { end: close, colon };
      return undefined;
    }
    for (let i = p; i < end; i++) {
      const ch = t.charCodeAt(i);
      if (ch === 0x23 && i > p && t.charCodeAt(i - 1) === 0x20) return undefined;
      if (ch === 0x3a && (i + 1 === end || t.charCodeAt(i + 1) === 0x20)) {
        let e = i;
        while (e > p && t.charCodeAt(e - 1) === 0x20) e--;
        return { end: e, colon: i };
      }
    }
    return undefined;
  }

  key(p: number, end: number): SpecScalar {
    if (end - p > 1024 || end === p) bail();
    const c = this.text[p]!;
    if (c === '"' || c === "'") return this.quoted(p, end);
    if (INDICATOR.test(c) || (c === '-' && (end === p + 1 || this.text.charCodeAt(p + 1) === 0x20))) bail();
    const src = this.text.slice(p, end);
    return scalar(resolvePlain(src), src, p);
  }

  /** The value of a key or list item with nothing after its indicator on line `li` (`at`: where that nothing is). */
  blockValue(li: number, at: number, col: number, inMap: boolean): [SpecNode, number] {
    const next = this.nextContent(li + 1);
    if (next < this.starts.length) {
      const ind = this.indent(next);
      const p = this.starts[next]! + ind;
      if (ind > col) {
        if (this.isSeqItem(p, next) || this.keyEnd(p, next) !== undefined) return this.collection(next, p);
        bail();
      }
      if (ind === col && inMap && this.isSeqItem(p, next)) return this.collection(next, p);
    }
    return [scalar(null, '', at), li + 1];
  }

  /** A value that starts at `p` on line `li`, after `key: ` or `- `; returns it and the line after it. */
  inlineValue(li: number, p: number, col: number): [SpecNode, number] {
    const t = this.text;
    const c = t[p]!;
    if (c === '|' || c === '>') return this.block(li, p, col);
    if (c === '[' || c === '{') {
      if (++this.depth > this.maxDepth) bail();
      const [node, end] = this.flow(p, li);
      this.depth--;
      this.lineRest(end, li);
      return [node, li + 1];
    }
    if (c === '"' || c === "'") {
      const end = this.quotedEnd(p, li);
      const node = this.quoted(p, end);
      this.lineRest(end, li);
      return [node, li + 1];
    }
    // `-`, `?` and `:` start a plain scalar when a non-space follows (`-Xmx512m`, `:9999`).
    if ((c === '-' || c === '?' || c === ':') && (p + 1 === this.ends[li] || t.charCodeAt(p + 1) === 0x20)) bail();
    if (c !== '?' && c !== ':' && INDICATOR.test(c)) bail();
    const lineEnd = this.ends[li]!;
    let end = lineEnd;
    for (let i = p; i < lineEnd; i++) {
      const ch = t.charCodeAt(i);
      if (ch === 0x23 && t.charCodeAt(i - 1) === 0x20) {
        end = i;
        break;
      }
      if (ch === 0x3a && (i + 1 === lineEnd || t.charCodeAt(i + 1) === 0x20)) bail();
    }
    while (end > p && t.charCodeAt(end - 1) === 0x20) end--;
    // A more indented line after a plain scalar continues it (a multi-line scalar).
    const next = this.nextContent(li + 1);
    if (next < this.starts.length && this.indent(next) > col) bail();
    const src = t.slice(p, end);
    return [scalar(resolvePlain(src), src, p), li + 1];
  }

  /** The offset after the closing quote of the one-line quoted scalar at `p`. */
  quotedEnd(p: number, li: number): number {
    const t = this.text;
    const q = t.charCodeAt(p);
    const end = this.ends[li]!;
    for (let i = p + 1; i < end; i++) {
      const ch = t.charCodeAt(i);
      if (q === 0x22 && ch === 0x5c) i++;
      else if (ch === q) {
        if (q === 0x27 && t.charCodeAt(i + 1) === 0x27) i++;
        else return i + 1;
      }
    }
    return bail();
  }

  quoted(p: number, end: number): SpecScalar {
    const t = this.text;
    const body = t.slice(p + 1, end - 1);
    if (t[p] === "'") {
      const v = body.replaceAll("''", "'");
      return scalar(v, v, p);
    }
    let v = '';
    let i = 0;
    for (;;) {
      const bs = body.indexOf('\\', i);
      if (bs === -1) {
        v += body.slice(i);
        break;
      }
      v += body.slice(i, bs);
      const e = body[bs + 1]!;
      const simple = ESCAPES[e];
      if (simple !== undefined) {
        v += simple;
        i = bs + 2;
      } else if (e === 'x' || e === 'u' || e === 'U') {
        const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        const hex = body.slice(bs + 2, bs + 2 + n);
        if (hex.length !== n || !/^[0-9a-fA-F]+$/.test(hex)) bail();
        const code = parseInt(hex, 16);
        if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) bail();
        v += String.fromCodePoint(code);
        i = bs + 2 + n;
      } else {
        bail();
      }
    }
    return scalar(v, v, p);
  }

  /**
   * A block scalar, literal (`|`) or folded (`>`), with strip (`-`) or clip
   * chomping, whose header is at `p`, under a parent at column `col`. Folding
   * follows the `yaml` package's resolveBlockScalar.
   */
  block(li: number, p: number, col: number): [SpecNode, number] {
    const t = this.text;
    const folded = t[p] === '>';
    let h = p + 1;
    const strip = t[h] === '-';
    if (strip) h++;
    if (h < this.ends[li]! && t.charCodeAt(h) !== 0x20) bail();
    this.lineRest(h, li);
    // The first line with content fixes the indentation; leading empty lines must not be longer.
    let first = li + 1;
    while (first < this.starts.length && this.starts[first]! + this.indent(first) === this.ends[first]) {
      if (this.indent(first) > 0) bail();
      first++;
    }
    if (first === this.starts.length) bail();
    const ind = this.indent(first);
    if (ind <= col) bail();
    const lines: string[] = [];
    let last = first;
    for (let i = li + 1; i < this.starts.length; i++) {
      const s = this.starts[i]!;
      const e = this.ends[i]!;
      const lineInd = this.indent(i);
      if (s + lineInd === e) {
        // An empty line belongs to the scalar; spaces on it are left to the full parser.
        if (lineInd > 0) bail();
        lines.push('');
        continue;
      }
      if (lineInd < ind) break;
      lines.push(t.slice(s + ind, e));
      last = i;
    }
    // Trailing empty lines are chomped (`|+` is left to the full parser).
    const content = lines.slice(0, last - li);
    let v = '';
    if (!folded) v = content.join('\n');
    else {
      let i = 0;
      for (; content[i] === ''; i++) v += '\n';
      let sep = '';
      let prevMoreIndented = false;
      for (; i < content.length; i++) {
        const line = content[i]!;
        if (line.charCodeAt(0) === 0x20) {
          if (sep === ' ') sep = '\n';
          else if (!prevMoreIndented && sep === '\n') sep = '\n\n';
          v += sep + line;
          sep = '\n';
          prevMoreIndented = true;
        } else if (line === '') {
          if (sep === '\n') v += '\n';
          else sep = '\n';
        } else {
          v += sep + line;
          sep = ' ';
          prevMoreIndented = false;
        }
      }
    }
    if (!strip) v += '\n';
    return [scalar(v, v, p), last + 1];
  }

  /** A flow list or map on one line, starting at `p`; returns it and the offset after it. */
  flow(p: number, li: number): [SpecNode, number] {
    const t = this.text;
    const end = this.ends[li]!;
    const isMap = t[p] === '{';
    const close = isMap ? 0x7d : 0x5d;
    const node: SpecMap | SpecSeq = isMap ? { kind: 'map', at: p, pairs: [] } : { kind: 'seq', at: p, items: [] };
    let i = this.skipSpaces(p + 1, li);
    if (t.charCodeAt(i) === close) {
      return [node, i + 1];
    }
    for (;;) {
      let item: SpecNode;
      [item, i] = this.flowItem(i, li, isMap);
      if (isMap) {
        i = this.skipSpaces(i, li);
        if (t.charCodeAt(i) !== 0x3a || t.charCodeAt(i + 1) !== 0x20) bail();
        let value: SpecNode;
        [value, i] = this.flowItem(this.skipSpaces(i + 1, li), li, false);
        (node as SpecMap).pairs.push({ key: item, value });
      } else {
        (node as SpecSeq).items.push(item);
      }
      i = this.skipSpaces(i, li);
      const ch = t.charCodeAt(i);
      if (ch === close) {
        return [node, i + 1];
      }
      if (ch !== 0x2c) bail();
      i = this.skipSpaces(i + 1, li);
      if (i >= end || t.charCodeAt(i) === close || t.charCodeAt(i) === 0x2c) bail();
    }
  }

  flowItem(p: number, li: number, isKey: boolean): [SpecNode, number] {
    const t = this.text;
    const c = t[p];
    if (c === undefined || p >= this.ends[li]!) bail();
    if (c === '"' || c === "'") {
      const end = this.quotedEnd(p, li);
      return [this.quoted(p, end), end];
    }
    if (c === '[' || c === '{') {
      if (isKey) bail();
      if (++this.depth > this.maxDepth) bail();
      const r = this.flow(p, li);
      this.depth--;
      return r;
    }
    // `-` starts a plain scalar when a safe character follows (`--port`).
    if (INDICATOR.test(c) || (c === '-' && (p + 1 >= this.ends[li]! || /[\s,[\]{}]/.test(t[p + 1]!)))) bail();
    let end = p;
    const lineEnd = this.ends[li]!;
    for (; end < lineEnd; end++) {
      const ch = t.charCodeAt(end);
      if (ch === 0x2c || ch === 0x5d || ch === 0x7d || ch === 0x5b || ch === 0x7b) break;
      // `:` ends it before a space or a flow indicator (`-XX:+UseG1GC` is one scalar); `#` after a space.
      if (ch === 0x3a && (end + 1 === lineEnd || /[\s,[\]{}]/.test(t[end + 1]!))) break;
      if (ch === 0x23 && t.charCodeAt(end - 1) === 0x20) break;
    }
    let e = end;
    while (e > p && t.charCodeAt(e - 1) === 0x20) e--;
    if (e === p || e - p > 1024) bail();
    const src = t.slice(p, e);
    return [scalar(resolvePlain(src), src, p), e];
  }
}

/**
 * Read `text` (without a byte order mark) if it is in the common subset, adding
 * its line starts to `lc`; `undefined` when the full parser must read it (and
 * then `lc` is untouched). Pure.
 */
export function readCommonYaml(text: string, lc: LineCounter, maxDepth: number): SpecNode | undefined {
  if (UNUSUAL.test(text)) return undefined;
  const r = new Reader(text, maxDepth);
  let root: SpecNode;
  try {
    root = r.root();
  } catch (e) {
    if (e === NOT_COMMON) return undefined;
    throw e;
  }
  for (const s of r.starts) lc.addNewLine(s);
  return root;
}
