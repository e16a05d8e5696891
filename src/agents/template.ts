/**
 * One description, two renderings. Agent configuration is written once as a small
 * program of text segments, values and conditionals over named parameters; it is
 * then either evaluated here with concrete parameters (what `hashiship agent-config`
 * prints) or printed as a Terraform template (`templatefile()` input for
 * `terraform/modules/userdata`). Both renderings follow Terraform's template
 * semantics exactly — directives strip the whitespace before them (`%{~ … }`),
 * values are `jsonencode`d — so the same inputs give byte-identical files, which
 * the integration tests check against `terraform apply` of the userdata module.
 */

/** A JSON value, as parameters and Terraform's `jsonencode` know them. */
export type Json = string | number | boolean | null | readonly Json[] | { readonly [k: string]: Json };

/** An expression over the parameters: evaluated in TypeScript or printed as Terraform. */
export type Expr =
  | { readonly kind: 'lit'; readonly value: Json }
  | { readonly kind: 'ref'; readonly path: string }
  | { readonly kind: 'concat'; readonly parts: readonly Expr[] }
  | { readonly kind: 'cond'; readonly test: Expr; readonly then: Expr; readonly else: Expr }
  | { readonly kind: 'not'; readonly expr: Expr }
  | { readonly kind: 'list'; readonly items: readonly Expr[] };

/** How a value segment is written: `json` as `jsonencode` does, `raw` as the plain string. */
export type Encoding = 'json' | 'raw';

/** A piece of a template program. */
export type Seg =
  | { readonly t: 'lit'; readonly text: string }
  | { readonly t: 'val'; readonly expr: Expr; readonly enc: Encoding }
  | { readonly t: 'if'; readonly test: Expr; readonly then: readonly Seg[]; readonly else: readonly Seg[] }
  | { readonly t: 'for'; readonly var: string; readonly list: Expr; readonly body: readonly Seg[] };

/** A literal value. */
export const lit = (value: Json): Expr => ({ kind: 'lit', value });
/** A parameter, or a field of a loop variable (`v.name`). */
export const ref = (path: string): Expr => ({ kind: 'ref', path });
/** String concatenation; plain strings are literals. */
export const concat = (...parts: readonly (Expr | string)[]): Expr => ({
  kind: 'concat',
  parts: parts.map((p) => (typeof p === 'string' ? lit(p) : p)),
});
/** `test ? a : b`. */
export const cond = (test: Expr, a: Expr, b: Expr): Expr => ({ kind: 'cond', test, then: a, else: b });
/** `!e`. */
export const not = (expr: Expr): Expr => ({ kind: 'not', expr });
/** `[a, b, …]`. */
export const list = (...items: readonly Expr[]): Expr => ({ kind: 'list', items });

/** Parameters and loop variables in scope. */
export type Env = Readonly<Record<string, Json>>;

function lookup(env: Env, path: string): Json {
  const [head, ...rest] = path.split('.');
  let v: Json | undefined = head === undefined ? undefined : env[head];
  for (const key of rest) {
    v = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, Json>)[key] : undefined;
  }
  if (v === undefined) throw new Error(`template: ${path} is not defined`);
  return v;
}

/** Evaluate an expression with concrete parameters. */
export function evaluate(e: Expr, env: Env): Json {
  switch (e.kind) {
    case 'lit':
      return e.value;
    case 'ref':
      return lookup(env, e.path);
    case 'concat':
      return e.parts.map((p) => stringOf(evaluate(p, env))).join('');
    case 'cond':
      return evaluate(e.test, env) === true ? evaluate(e.then, env) : evaluate(e.else, env);
    case 'not':
      return evaluate(e.expr, env) !== true;
    case 'list':
      return e.items.map((i) => evaluate(i, env));
  }
}

function stringOf(v: Json): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new Error(`template: cannot interpolate ${JSON.stringify(v)} into a string`);
}

/**
 * `jsonencode` as Terraform does it (Go's encoding/json): compact, with `<`, `>`,
 * `&`, U+2028 and U+2029 escaped.
 */
export function jsonencode(v: Json): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Escape literal text for a Terraform template (`${` and `%{` start sequences). */
function escapeTemplate(text: string): string {
  return text.replace(/\$\{/g, () => '$${').replace(/%\{/g, () => '%%{');
}

/** A Terraform string literal (inside an expression). */
function tfString(s: string): string {
  return escapeTemplate(JSON.stringify(s));
}

/** Print an expression in Terraform's expression syntax. */
export function toTerraform(e: Expr): string {
  switch (e.kind) {
    case 'lit':
      if (typeof e.value === 'string') return tfString(e.value);
      if (Array.isArray(e.value)) return `[${e.value.map((v) => toTerraform(lit(v))).join(', ')}]`;
      if (e.value !== null && typeof e.value === 'object') throw new Error('template: object literals are not supported');
      return JSON.stringify(e.value);
    case 'ref':
      return e.path;
    case 'concat':
      return `"${e.parts
        .map((p) => (p.kind === 'lit' && typeof p.value === 'string' ? escapeTemplate(JSON.stringify(p.value).slice(1, -1)) : `\${${toTerraform(p)}}`))
        .join('')}"`;
    case 'cond':
      return `(${toTerraform(e.test)} ? ${toTerraform(e.then)} : ${toTerraform(e.else)})`;
    case 'not':
      return `!${toTerraform(e.expr)}`;
    case 'list':
      return `[${e.items.map(toTerraform).join(', ')}]`;
  }
}

/**
 * The program as the template parser sees it: a flat token list. HCL scans template
 * literals one line at a time (each token ends after its `\n`), and a strip marker
 * trims only the neighbouring line token: `%{~` the end of the last line before the
 * directive, `~}` the start of the first line after it. Directives are written on
 * their own line with `~}` (so the rest of their line vanishes) and with `%{~` only
 * when indented (so the indentation vanishes but the line break before stays).
 */
type Dir =
  { readonly d: 'if'; readonly test: Expr } | { readonly d: 'for'; readonly var: string; readonly list: Expr } | { readonly d: 'else' | 'endif' | 'endfor' };

type Tok =
  | { readonly t: 'lit'; text: string }
  | { readonly t: 'val'; readonly expr: Expr; readonly enc: Encoding }
  | { readonly t: 'dir'; readonly dir: Dir; lstrip: boolean };

function flatten(segs: readonly Seg[], out: Tok[]): void {
  const dir = (d: Dir) => out.push({ t: 'dir', dir: d, lstrip: false });
  for (const s of segs) {
    const last = out[out.length - 1];
    switch (s.t) {
      case 'lit':
        if (last?.t === 'lit') last.text += s.text;
        else out.push({ t: 'lit', text: s.text });
        break;
      case 'val':
        out.push({ t: 'val', expr: s.expr, enc: s.enc });
        break;
      case 'if':
        dir({ d: 'if', test: s.test });
        flatten(s.then, out);
        if (s.else.length > 0) {
          dir({ d: 'else' });
          flatten(s.else, out);
        }
        dir({ d: 'endif' });
        break;
      case 'for':
        dir({ d: 'for', var: s.var, list: s.list });
        flatten(s.body, out);
        dir({ d: 'endfor' });
        break;
    }
  }
}

function tokens(segs: readonly Seg[]): Tok[] {
  const out: Tok[] = [];
  flatten(segs, out);
  // A directive strips leftwards only when spaces alone precede it on its line.
  out.forEach((tok, i) => {
    const prev = out[i - 1];
    if (tok.t === 'dir' && prev?.t === 'lit') tok.lstrip = /(^|\n)[ \t]+$/.test(prev.text);
  });
  return out;
}

function dirText(d: Dir): string {
  switch (d.d) {
    case 'if':
      return `if ${toTerraform(d.test)}`;
    case 'for':
      return `for ${d.var} in ${toTerraform(d.list)}`;
    default:
      return d.d;
  }
}

/** Print a program as a Terraform template (`templatefile()` input). */
export function printTemplate(segs: readonly Seg[]): string {
  let out = '';
  for (const tok of tokens(segs)) {
    if (tok.t === 'lit') out += escapeTemplate(tok.text);
    else if (tok.t === 'val') out += tok.enc === 'json' ? `\${jsonencode(${toTerraform(tok.expr)})}` : `\${${toTerraform(tok.expr)}}`;
    else out += `%{${tok.lstrip ? '~' : ''} ${dirText(tok.dir)} ~}`;
  }
  return out;
}

/** Trim the end of a literal's last line token (what `%{~` does). */
function trimLastLine(text: string): string {
  const cut = text.endsWith('\n') ? text.lastIndexOf('\n', text.length - 2) : text.lastIndexOf('\n');
  return text.slice(0, cut + 1) + text.slice(cut + 1).replace(/\s+$/u, '');
}

/** Trim the start of a literal's first line token (what `~}` does). */
function trimFirstLine(text: string): string {
  const nl = text.indexOf('\n');
  const first = nl === -1 ? text : text.slice(0, nl + 1);
  return first.replace(/^\s+/u, '') + text.slice(first.length);
}

/** The tokens with strip markers applied, as the template parser does before evaluation. */
function stripped(segs: readonly Seg[]): Tok[] {
  const toks = tokens(segs);
  toks.forEach((tok, i) => {
    if (tok.t !== 'dir') return;
    const prev = toks[i - 1];
    const next = toks[i + 1];
    if (tok.lstrip && prev?.t === 'lit') prev.text = trimLastLine(prev.text);
    if (next?.t === 'lit') next.text = trimFirstLine(next.text);
  });
  return toks;
}

/** Evaluate tokens from `i` up to the directive closing this level; returns its index. */
function evalTokens(toks: readonly Tok[], from: number, env: Env, emit: boolean, out: string[]): number {
  let i = from;
  while (i < toks.length) {
    const tok = toks[i]!;
    if (tok.t === 'lit') {
      if (emit) out.push(tok.text);
      i++;
      continue;
    }
    if (tok.t === 'val') {
      if (emit) {
        const v = evaluate(tok.expr, env);
        out.push(tok.enc === 'json' ? jsonencode(v) : stringOf(v));
      }
      i++;
      continue;
    }
    const d = tok.dir;
    if (d.d === 'if') {
      const yes = emit && evaluate(d.test, env) === true;
      let j = evalTokens(toks, i + 1, env, yes, out);
      const at = toks[j];
      if (at?.t === 'dir' && at.dir.d === 'else') j = evalTokens(toks, j + 1, env, emit && !yes, out);
      i = j + 1;
      continue;
    }
    if (d.d !== 'for') return i; // else, endif, endfor: this level ends here
    const items = emit ? evaluate(d.list, env) : [];
    if (!Array.isArray(items)) throw new Error('template: for over a non-list');
    let end = evalTokens(toks, i + 1, env, false, out);
    for (const item of items as readonly Json[]) end = evalTokens(toks, i + 1, { ...env, [d.var]: item }, true, out);
    i = end + 1;
  }
  return i;
}

/** Evaluate a program with concrete parameters, exactly as `templatefile()` would. */
export function renderTemplate(segs: readonly Seg[], env: Env): string {
  const out: string[] = [];
  evalTokens(stripped(segs), 0, env, true, out);
  return out.join('');
}

/** Merge adjacent literals, as the template parser sees them. */
export function merge(segs: readonly Seg[]): Seg[] {
  const out: Seg[] = [];
  for (const s of segs) {
    const last = out[out.length - 1];
    if (s.t === 'lit' && last?.t === 'lit') out[out.length - 1] = { t: 'lit', text: last.text + s.text };
    else if (s.t === 'if') out.push({ ...s, then: merge(s.then), else: merge(s.else) });
    else if (s.t === 'for') out.push({ ...s, body: merge(s.body) });
    else out.push(s);
  }
  return out;
}

/**
 * Indent every line of a program (for a YAML block scalar). Empty lines stay empty;
 * directives and values keep their place.
 */
export function indent(segs: readonly Seg[], prefix: string, atStart = true): Seg[] {
  const out: Seg[] = [];
  let lineStart = atStart;
  for (const s of merge(segs)) {
    if (s.t === 'lit') {
      let text = '';
      for (const ch of s.text) {
        if (lineStart && ch !== '\n') text += prefix;
        text += ch;
        lineStart = ch === '\n';
      }
      out.push({ t: 'lit', text });
    } else if (s.t === 'val') {
      if (lineStart) out.push({ t: 'lit', text: prefix });
      out.push(s);
      lineStart = false;
    } else {
      // Directives are indented too (their strip marker removes it again); branch
      // text starts right after the directive, where a line break follows.
      if (lineStart) out.push({ t: 'lit', text: prefix });
      if (s.t === 'if') out.push({ ...s, then: indent(s.then, prefix, false), else: indent(s.else, prefix, false) });
      else out.push({ ...s, body: indent(s.body, prefix, false) });
      lineStart = false;
    }
  }
  return out;
}
