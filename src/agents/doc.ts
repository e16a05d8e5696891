/**
 * Documents built from nodes — attributes, blocks, conditionals, loops — and written
 * as template programs ({@link Seg}) in three syntaxes: HCL (Consul, Nomad, Vault),
 * Java-style properties (Fabio) and shell environment files (systemd
 * `EnvironmentFile=`, the boot script's parameters).
 */
import { type Encoding, type Expr, type Seg, jsonencode, lit } from './template.js';

export type Node =
  | { readonly n: 'attr'; readonly key: string; readonly value: Expr }
  | { readonly n: 'block'; readonly type: string; readonly labels: readonly Expr[]; readonly body: readonly Node[] }
  | { readonly n: 'if'; readonly test: Expr; readonly then: readonly Node[]; readonly else: readonly Node[] }
  | { readonly n: 'for'; readonly var: string; readonly list: Expr; readonly body: readonly Node[] }
  | { readonly n: 'comment'; readonly text: string };

/** `key = value`; a plain string, number or boolean is a literal. */
export function attr(key: string, value: Expr | string | number | boolean): Node {
  return { n: 'attr', key, value: typeof value === 'object' ? value : lit(value) };
}
/** `type "label" { … }`. */
export function block(type: string, labels: readonly (Expr | string)[], body: readonly Node[]): Node {
  return { n: 'block', type, labels: labels.map((l) => (typeof l === 'string' ? lit(l) : l)), body };
}
/** Nodes present only when `test` holds (else `otherwise`). */
export function when(test: Expr, then: readonly Node[], otherwise: readonly Node[] = []): Node {
  return { n: 'if', test, then, else: otherwise };
}
/** Nodes repeated for each item of a list parameter, bound to `var`. */
export function each(v: string, listExpr: Expr, body: readonly Node[]): Node {
  return { n: 'for', var: v, list: listExpr, body };
}
/** A `#` comment line. */
export function comment(text: string): Node {
  return { n: 'comment', text };
}

const INDENT = '  ';

/** A value: literals are written as text, so templates show them plainly. */
function value(expr: Expr, enc: Encoding): Seg {
  if (expr.kind === 'lit') return { t: 'lit', text: enc === 'json' ? jsonencode(expr.value) : String(expr.value) };
  return { t: 'val', expr, enc };
}

function line(depth: number, text: string): Seg {
  return { t: 'lit', text: `\n${INDENT.repeat(depth)}${text}` };
}

/** Attributes in a run share an aligned `=` column, as `terraform fmt` does. */
function keyWidth(nodes: readonly Node[], i: number): number {
  let w = 0;
  let j = i;
  while (j > 0 && nodes[j - 1]?.n === 'attr') j--;
  for (let k = j; k < nodes.length; k++) {
    const node = nodes[k];
    if (node?.n !== 'attr') break;
    w = Math.max(w, node.key.length);
  }
  return w;
}

function hclBody(nodes: readonly Node[], depth: number): Seg[] {
  const out: Seg[] = [];
  nodes.forEach((node, i) => {
    const prev = nodes[i - 1];
    // A blank line between blocks, and between a run of attributes and a block; a
    // comment sticks to what follows it.
    // (A loop spaces its own iterations.)
    const blankBefore = (first: Node | undefined): Seg[] =>
      prev !== undefined && prev.n !== 'comment' && first?.n !== 'for' && !(first?.n === 'attr' && prev.n === 'attr') ? [{ t: 'lit', text: '\n' }] : [];
    const blank = blankBefore(node);
    switch (node.n) {
      case 'attr':
        out.push(...blank, line(depth, `${node.key.padEnd(keyWidth(nodes, i))} = `), value(node.value, 'json'));
        break;
      case 'comment':
        out.push(...blank, line(depth, `# ${node.text}`));
        break;
      case 'block':
        out.push(...blank, line(depth, node.type));
        for (const l of node.labels) out.push({ t: 'lit', text: ' ' }, value(l, 'json'));
        out.push({ t: 'lit', text: ' {' }, ...hclBody(node.body, depth + 1), line(depth, '}'));
        break;
      case 'if':
        // The directive strips the whitespace before it, so the blank line goes
        // inside each branch.
        out.push(line(depth, ''), {
          t: 'if',
          test: node.test,
          then: [...blankBefore(node.then[0]), ...hclBody(node.then, depth), line(depth, '')],
          else: node.else.length === 0 ? [] : [...blankBefore(node.else[0]), ...hclBody(node.else, depth), line(depth, '')],
        });
        break;
      case 'for':
        out.push(line(depth, ''), {
          t: 'for',
          var: node.var,
          list: node.list,
          body: [...(node.body[0]?.n === 'block' ? [{ t: 'lit', text: '\n' } as const] : []), ...hclBody(node.body, depth), line(depth, '')],
        });
        break;
    }
  });
  return out;
}

/** A file's first line: a `#` comment in every syntax used here. */
function header(title: string): Seg {
  return { t: 'lit', text: `# ${title}` };
}

/** An HCL document (Consul, Nomad and Vault agent configuration). */
export function hcl(title: string, nodes: readonly Node[]): Seg[] {
  return [header(title), ...hclBody(nodes, 0), { t: 'lit', text: '\n' }];
}

function flatBody(nodes: readonly Node[], sep: string, enc: (e: Expr) => Seg[]): Seg[] {
  const out: Seg[] = [];
  for (const node of nodes) {
    switch (node.n) {
      case 'attr':
        out.push(line(0, `${node.key}${sep}`), ...enc(node.value));
        break;
      case 'comment':
        out.push(line(0, `# ${node.text}`));
        break;
      case 'if':
        out.push(line(0, ''), {
          t: 'if',
          test: node.test,
          then: [...flatBody(node.then, sep, enc), line(0, '')],
          else: node.else.length === 0 ? [] : [...flatBody(node.else, sep, enc), line(0, '')],
        });
        break;
      case 'for':
        out.push(line(0, ''), { t: 'for', var: node.var, list: node.list, body: [...flatBody(node.body, sep, enc), line(0, '')] });
        break;
      case 'block':
        throw new Error('flat documents have no blocks');
    }
  }
  return out;
}

/** A Java properties document (Fabio): `key = value`, values unquoted. */
export function properties(title: string, nodes: readonly Node[]): Seg[] {
  return [header(title), ...flatBody(nodes, ' = ', (e) => [value(e, 'raw')]), { t: 'lit', text: '\n' }];
}

/**
 * A shell/systemd environment file: `KEY='value'`. Values must not contain `'`
 * or line breaks (parameters are validated for that).
 */
export function envFile(title: string, nodes: readonly Node[]): Seg[] {
  return [header(title), ...flatBody(nodes, "='", (e) => [value(e, 'raw'), { t: 'lit', text: "'" }]), { t: 'lit', text: '\n' }];
}

/** A text file without parameters (scripts, systemd units). */
export function text(content: string): Seg[] {
  return [{ t: 'lit', text: content }];
}
