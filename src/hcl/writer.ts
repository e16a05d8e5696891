/**
 * A deterministic HCL2 writer whose output is byte-for-byte what `nomad fmt`
 * (hclwrite.Format) produces for it: 2-space indentation, one space around `=`,
 * the `=` of consecutive attribute lines aligned, `{}` for empty blocks, lists on
 * one line as `["a", "b"]`, multi-line strings as `<<EOT` heredocs.
 *
 * Layout rules (the formatter never adds or removes lines, so these are ours):
 * attributes come in the order given and consecutive attributes form one
 * aligned run; every block is separated from its neighbours by one blank line.
 *
 * Strings are escaped for HCL2 templates so that Nomad receives them literally:
 * `%{` → `%%{`, `${` → `$${` except for plain run-time references such as
 * `${attr.kernel.name}` that Nomad keeps as written; quotes, backslashes and control characters
 * become escapes in quoted strings; heredoc bodies are written verbatim apart
 * from the two template escapes.
 */

/** A scalar attribute value. Numbers must be finite. */
export type HclScalar = string | number | boolean;

/**
 * An object value (`labels = { a = "b" }`), entries in the order given; written
 * across lines, or as `{}` when empty. Keys that are not identifiers are quoted.
 */
export interface HclObject {
  readonly kind: 'object';
  readonly entries: readonly (readonly [string, HclValue])[];
}

/** An attribute value: a scalar, a one-line list of scalars, or an object. */
export type HclValue = HclScalar | readonly HclScalar[] | HclObject;

/** Build an object value. */
export function object(entries: readonly (readonly [string, HclValue])[]): HclObject {
  return { kind: 'object', entries };
}

function isObjectValue(v: HclValue): v is HclObject {
  return typeof v === 'object' && !Array.isArray(v);
}

/** Whether a value spans lines as `{ … }`: `nomad fmt` then leaves it out of the `=` alignment. */
function isMultilineObject(v: HclValue): boolean {
  return isObjectValue(v) && v.entries.length > 0;
}

export interface HclAttribute {
  readonly kind: 'attribute';
  /** An HCL identifier. */
  readonly name: string;
  readonly value: HclValue;
}

export interface HclBlock {
  readonly kind: 'block';
  /** The block type, an HCL identifier (`job`, `group`, `check`). */
  readonly type: string;
  /** Quoted labels (`job "web"`). */
  readonly labels: readonly string[];
  readonly body: HclBody;
}

export type HclNode = HclAttribute | HclBlock;
export type HclBody = readonly HclNode[];

/** Build an attribute node. */
export function attr(name: string, value: HclValue): HclAttribute {
  return { kind: 'attribute', name, value };
}

/** Build a block node. */
export function block(type: string, labels: readonly string[], body: HclBody): HclBlock {
  return { kind: 'block', type, labels, body };
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Whether `name` can be written bare as an attribute name or block type. */
export function isHclIdentifier(name: string): boolean {
  return IDENT.test(name);
}

// A run-time reference Nomad resolves itself (`${attr.kernel.name}`,
// `${NOMAD_PORT_http}`): jobspec2 keeps an undefined variable's `${…}` text as
// written, so such references may stay unescaped — except `var.`/`local.`
// (defined in jobspec2), after a `$` (it would form the `$${` escape) and before
// a `}` (jobspec2 then rebuilds the text wrongly).
const RUNTIME_REF = /^\$\{(?!(?:var|local)(?:[.}]))[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*\}/;

/**
 * Escape the HCL2 template introducers so a string is taken literally: `%{`
 * always becomes `%%{`; `${` becomes `$${` unless it opens a plain run-time
 * reference such as `${attr.kernel.name}`, which Nomad's parser keeps as written.
 */
export function escapeTemplate(s: string): string {
  // Most strings hold no `{` at all: nothing to escape.
  if (!s.includes('{')) return s;
  let out = '';
  let i = 0;
  for (;;) {
    const d = s.indexOf('${', i);
    const p = s.indexOf('%{', i);
    const next = d < 0 ? p : p < 0 ? d : Math.min(d, p);
    if (next < 0) return out + s.slice(i);
    out += s.slice(i, next);
    if (next === p) {
      out += '%%{';
      i = next + 2;
      continue;
    }
    const ref = RUNTIME_REF.exec(s.slice(next))?.[0];
    const after = ref === undefined ? '' : s.slice(next + ref.length).trimStart();
    if (ref !== undefined && s[next - 1] !== '$' && !after.startsWith('}')) {
      out += ref;
      i = next + ref.length;
    } else {
      out += '$${';
      i = next + 2;
    }
  }
}

/**
 * Code points that change how a line reads without showing (zero-width, bidi
 * overrides and isolates, line and paragraph separators, the byte order mark):
 * written as `\uNNNN`, which HCL reads back as the same character, so a generated
 * file shows what it holds.
 */
const INVISIBLE = /[\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

/** Any character {@link quoteString} writes as an escape: quotes, backslashes, control and invisible characters. */
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

/**
 * A string as an HCL2 quoted template literal, quotes included.
 * @example quoteString('a "b" ${c}') === '"a \\"b\\" $${c}"'
 */
export function quoteString(s: string): string {
  const t = escapeTemplate(s);
  // Most strings need no escape: one scan instead of a test per character.
  if (!NEEDS_ESCAPE.test(t)) return `"${t}"`;
  let out = '"';
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    switch (c) {
      case 0x22:
        out += '\\"';
        break;
      case 0x5c:
        out += '\\\\';
        break;
      case 0x0a:
        out += '\\n';
        break;
      case 0x0d:
        out += '\\r';
        break;
      case 0x09:
        out += '\\t';
        break;
      default:
        if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0xad && INVISIBLE.test(t[i]!))) out += `\\u${c.toString(16).padStart(4, '0')}`;
        else out += t[i];
    }
  }
  return `${out}"`;
}

// Characters a heredoc cannot carry verbatim: control characters other than tab
// and newline (a carriage return would be read as part of a line ending), and the
// invisible ones a quoted string writes as escapes (see INVISIBLE).
// eslint-disable-next-line no-control-regex
const HEREDOC_UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

/** Whether a string is written as a heredoc: several lines ending in a newline. */
export function usesHeredoc(s: string): boolean {
  return s.length > 1 && s.endsWith('\n') && s.indexOf('\n') < s.length - 1 && !HEREDOC_UNSAFE.test(s);
}

/** The first of EOT, EOT1, EOT2… that no line of the text could be mistaken for. */
function heredocMarker(lines: readonly string[]): string {
  const trimmed = new Set(lines.map((l) => l.trim()));
  for (let n = 0; ; n++) {
    const m = n === 0 ? 'EOT' : `EOT${n}`;
    if (!trimmed.has(m)) return m;
  }
}

function scalar(v: HclScalar): string {
  if (typeof v === 'string') return quoteString(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (!Number.isFinite(v)) throw new Error(`hcl: cannot write the number ${v}`);
  const s = String(v);
  if (/e/i.test(s)) throw new Error(`hcl: cannot write the number ${s} without an exponent`);
  return s;
}

/** Consecutive `name = value` lines at one indentation, `=` aligned as `nomad fmt` does. */
function writeAssignments(items: readonly (readonly [string, HclValue])[], indent: string, quoteKeys: boolean, out: string[]): void {
  const key = (n: string): string => {
    if (IDENT.test(n)) return n;
    if (quoteKeys) return quoteString(n);
    throw new Error(`hcl: ${JSON.stringify(n)} is not an identifier`);
  };
  let i = 0;
  while (i < items.length) {
    const [name, value] = items[i]!;
    if (isMultilineObject(value)) {
      // A line opening a multi-line object is not aligned and ends the run.
      out.push(`${indent}${key(name)} = ${valueText(value, indent)}\n`);
      i++;
      continue;
    }
    // One aligned run: each key is written once, padded to the run's widest.
    const keys: string[] = [];
    let j = i;
    let width = 0;
    while (j < items.length && !isMultilineObject(items[j]![1])) {
      const k = key(items[j]![0]);
      keys.push(k);
      if (k.length > width) width = k.length;
      j++;
    }
    for (let k = i; k < j; k++) out.push(`${indent}${keys[k - i]!.padEnd(width)} = ${valueText(items[k]![1], indent)}\n`);
    i = j;
  }
}

/** The text after `name = `: may span lines for heredocs and objects (no trailing newline). */
function valueText(v: HclValue, indent = ''): string {
  if (Array.isArray(v)) return `[${(v as readonly HclScalar[]).map(scalar).join(', ')}]`;
  if (isObjectValue(v)) {
    if (v.entries.length === 0) return '{}';
    const lines: string[] = [];
    writeAssignments(v.entries, `${indent}  `, true, lines);
    return `{\n${lines.join('')}${indent}}`;
  }
  const s = v as HclScalar;
  if (typeof s === 'string' && usesHeredoc(s)) {
    const body = escapeTemplate(s);
    const lines = body.slice(0, -1).split('\n');
    const marker = heredocMarker(lines);
    return `<<${marker}\n${body}${marker}`;
  }
  return scalar(s);
}

function writeBody(body: HclBody, depth: number, out: string[]): void {
  const indent = '  '.repeat(depth);
  let i = 0;
  let first = true;
  while (i < body.length) {
    const node = body[i]!;
    if (node.kind === 'attribute') {
      // One aligned run of consecutive attributes.
      let j = i;
      while (j < body.length && body[j]!.kind === 'attribute') j++;
      if (!first) out.push('\n');
      writeAssignments(
        body.slice(i, j).map((n) => [(n as HclAttribute).name, (n as HclAttribute).value] as const),
        indent,
        false,
        out,
      );
      i = j;
    } else {
      if (!IDENT.test(node.type)) throw new Error(`hcl: ${JSON.stringify(node.type)} is not an identifier`);
      if (!first) out.push('\n');
      const labels = node.labels.map((l) => ` ${quoteString(l)}`).join('');
      if (node.body.length === 0) {
        out.push(`${indent}${node.type}${labels} {}\n`);
      } else {
        out.push(`${indent}${node.type}${labels} {\n`);
        writeBody(node.body, depth + 1, out);
        out.push(`${indent}}\n`);
      }
      i++;
    }
    first = false;
  }
}

/**
 * Write a body (usually one top-level `job` block) as `nomad fmt`-clean text.
 * Pure and deterministic: the same nodes give the same bytes.
 * @throws {Error} on a programming error: a name that is not an identifier, a non-finite number.
 */
export function formatHcl(body: HclBody): string {
  const out: string[] = [];
  writeBody(body, 0, out);
  return out.join('');
}
