/**
 * Typed errors. Every error hashiship raises carries a short subject
 * ("nomad: jobs.register: 400 Bad Request"), `Prefix: value` context lines and the
 * exit code it maps to. Only `src/cli.ts` turns an error into a process exit code.
 */

/** The exit-code contract (DESIGN.md). */
export const ExitCode = {
  ok: 0,
  badInput: 1,
  unreachable: 2,
  reverted: 3,
  failed: 4,
  placement: 5,
  gate: 6,
  promotionReady: 10,
  /** A bug in hashiship: an error it did not expect (sysexits' EX_SOFTWARE). */
  internal: 70,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Plan exit codes follow the Nomad CLI: 0 no changes, 1 changes, 255 error. */
export const PlanExitCode = { noChanges: 0, changes: 1, error: 255 } as const;

export type ContextLine = readonly [label: string, value: string];

export interface ErrorDetails {
  /** `Label: value` lines shown under the subject. */
  readonly context?: readonly ContextLine[];
  /** The error that caused this one, if any. */
  readonly cause?: unknown;
}

/** Marks our errors across copies of this module (a loader or bundler may load two). */
const BRAND = Symbol.for('hashiship.error');

/** Base class: a subject, context lines and an exit code. */
export abstract class HashishipError extends Error {
  abstract readonly exitCode: ExitCode;
  readonly context: readonly ContextLine[];

  /**
   * `err instanceof HashishipError` also holds for an error made by another copy of
   * this module, so that the CLI never mistakes a typed error for a bug.
   */
  static override [Symbol.hasInstance](v: unknown): boolean {
    if (this !== HashishipError) return Function.prototype[Symbol.hasInstance].call(this, v);
    return typeof v === 'object' && v !== null && (v as { [BRAND]?: unknown })[BRAND] === true;
  }

  constructor(subject: string, details: ErrorDetails = {}) {
    super(subject, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.context = details.context ?? [];
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** The subject followed by its indented context lines. */
  describe(): string {
    const width = Math.max(0, ...this.context.map(([label]) => label.length + 1));
    const lines = this.context.map(([label, value]) => `  ${`${label}:`.padEnd(width)} ${value}`);
    return [this.message, ...lines].join('\n');
  }
}

/** A place in an input file; line and column are 1-based. */
export interface SourcePosition {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** One problem with user input, collected rather than thrown one at a time. */
export interface InputProblem {
  /** Where the problem is, when it comes from a file. */
  readonly at?: SourcePosition;
  /** What it concerns: a dotted path (`groups[0].tasks[1].image`), a variable or a flag. */
  readonly subject: string;
  readonly message: string;
}

/**
 * Control characters, line breaks, and invisible or direction-changing code points
 * (zero-width spaces, bidi overrides such as U+202E, tag characters) and spaces other
 * than the ASCII one (U+00A0 no-break, U+3000 ideographic), which YAML does not
 * take as spaces: what could
 * make a line on a terminal read differently from what it holds.
 */
const UNSAFE =
  /[\u0000-\u001f\u007f-\u00a0\u00ad\u1680\u2000-\u200a\u202f\u205f\u3000\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\ud800-\udfff]|[\u{e0000}-\u{e0fff}]/gu;

/**
 * Text safe to print on one terminal line: every control character and invisible
 * or direction-changing code point written as an escape (`\n`, `\t`, `\u202e`,
 * `\u{e0041}`); everything else unchanged.
 */
export function escapeText(s: string): string {
  return s.replace(UNSAFE, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    const cp = c.codePointAt(0)!;
    return cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, '0')}`;
  });
}

/**
 * Text for stdout, where tables, reports and `--json` documents go: what
 * {@link escapeText} escapes (ESC, CR, BEL, C1 controls, bidi overrides, invisible
 * code points) escaped the same way, but line breaks and tabs kept, and every escape a
 * JSON string escape too (`\u001b`, `\r`; a code point above U+FFFF as its two UTF-16
 * escapes, `\udb40\udc41`). Server text (a job's status description, a task event, a
 * KV value) then cannot move the cursor, retitle or recolour the terminal, or reorder a
 * line, and a `--json` document stays the same document: `JSON.stringify` escapes only
 * below U+0020, and this writes U+007F–U+009F, U+2028, U+2029 and U+202E inside its
 * strings as escapes that parse back to the same characters.
 */
export function escapeOutput(s: string): string {
  return s.replace(UNSAFE, (c) => {
    if (c === '\n' || c === '\t') return c;
    if (c === '\r') return '\\r';
    let out = '';
    for (let i = 0; i < c.length; i++) out += `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return out;
  });
}

/**
 * A value as it may be echoed in a message: escaped (see {@link escapeText}) and cut
 * after `max` characters with `… (N more bytes)`.
 * @default max 120
 */
export function excerpt(s: string, max = 120): string {
  if (s.length <= max) return escapeText(s);
  let cut = max;
  // Do not split a surrogate pair.
  if (/[\ud800-\udbff]/.test(s.charAt(cut - 1))) cut--;
  const rest = Buffer.byteLength(s.slice(cut), 'utf8');
  return `${escapeText(s.slice(0, cut))}… (${rest} more bytes)`;
}

/**
 * Text of several lines made safe to print: each line escaped and cut as
 * {@link excerpt} does (at `max` characters), the line breaks between them kept.
 * What reaches stderr goes through it, whatever the text echoes (an operand, a
 * server's answer).
 * @default max 8000
 */
export function escapeLines(s: string, max = 8000): string {
  return s
    .split('\n')
    .map((l) => excerpt(l, max))
    .join('\n');
}

/** The longest message or subject printed in full (longer ones are cut, see {@link excerpt}). */
const MAX_SHOWN = 2000;

/**
 * `file:line:col  path  message` for a problem in a file; `subject: message` for a
 * variable or flag (`NOMAD_ADDR="localhost:46x6": not a URL`). File, subject and
 * message are escaped and cut (see {@link excerpt}), whatever text they echo.
 */
export function formatProblem(p: InputProblem): string {
  const subject = excerpt(p.subject, MAX_SHOWN);
  const message = excerpt(p.message, MAX_SHOWN);
  if (p.at === undefined) return `${subject}: ${message}`;
  return `${excerpt(p.at.file, MAX_SHOWN)}:${p.at.line}:${p.at.col}  ${subject}  ${message}`;
}

/** The most problems {@link InputError.describe} lists; the rest are counted. */
export const MAX_PROBLEMS_SHOWN = 200;

/** Exit 1: bad input — spec, environment file, variable or flag. Nothing was contacted. */
export class InputError extends HashishipError {
  readonly exitCode = ExitCode.badInput;
  readonly problems: readonly InputProblem[];

  constructor(problems: readonly InputProblem[], details: ErrorDetails = {}) {
    const first = problems[0];
    const subject = problems.length === 1 && first !== undefined ? formatProblem(first) : `${problems.length} problems in the input`;
    super(subject, details);
    this.problems = problems;
  }

  override describe(): string {
    if (this.problems.length <= 1) return super.describe();
    const shown = this.problems.slice(0, MAX_PROBLEMS_SHOWN).map((p) => `  ${formatProblem(p)}`);
    const more = this.problems.length - shown.length;
    // 20,000 problems (an environment naming 20,000 unknown services) printed 1.8 MB; the first ones say what is wrong.
    if (more > 0) shown.push(`  … and ${more} more (the first ${MAX_PROBLEMS_SHOWN} are shown)`);
    return [this.message, ...shown].join('\n');
  }
}

/** Exit 2: a server could not be reached, or answered with an error. */
export class ServerError extends HashishipError {
  readonly exitCode = ExitCode.unreachable;
  /** e.g. `nomad`, `consul`, `vault`, `registry qa`. */
  readonly server: string;
  /** e.g. `jobs.register`. */
  readonly operation: string;
  readonly address: string;
  readonly status: number | undefined;

  constructor(server: string, operation: string, address: string, reason: string, details: ErrorDetails & { readonly status?: number } = {}) {
    super(`${server}: ${operation}: ${reason}`, {
      ...details,
      context: [['Address', address], ...(details.context ?? [])],
    });
    this.server = server;
    this.operation = operation;
    this.address = address;
    this.status = details.status;
  }
}

/** Exit 3: the deployment failed and Nomad rolled back to the previous version. */
export class RevertedError extends HashishipError {
  readonly exitCode = ExitCode.reverted;
}

/** Exit 4: the deployment failed and was not rolled back. */
export class DeployFailedError extends HashishipError {
  readonly exitCode = ExitCode.failed;
}

/** Exit 5: the scheduler could not place the job. */
export class PlacementError extends HashishipError {
  readonly exitCode = ExitCode.placement;
}

/** Exit 6: a gate refused (missing secret, unverified digest, foreign job, stale plan). */
export class GateError extends HashishipError {
  readonly exitCode = ExitCode.gate;
}

/** A local component (the dev stack, a build) failed; exits 2 like an unreachable server. */
export class StackError extends HashishipError {
  readonly exitCode = ExitCode.unreachable;
}

/** Exit 70: hashiship met an error it did not expect (a bug, not the input or a server). */
export class InternalError extends HashishipError {
  readonly exitCode = ExitCode.internal;
}

/** Error codes of a file-system call that mean the path it was given is wrong. */
const PATH_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'is a directory',
  ELOOP: 'too many levels of symbolic links (a symlink loop)',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'already exists',
  ENAMETOOLONG: 'name too long',
  EROFS: 'read-only file system',
};

/**
 * A file-system error on a path (`ENOENT`, `ENOTDIR`, `ELOOP`, `EACCES`, …) as bad
 * input naming the path (exit 1); undefined for anything else.
 */
export function pathErrorOf(err: unknown): InputError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; path?: unknown; syscall?: unknown; dest?: unknown };
  if (typeof e.code !== 'string' || typeof e.path !== 'string') return undefined;
  const what = PATH_ERRORS[e.code];
  if (what === undefined) return undefined;
  const op = typeof e.syscall === 'string' ? ` (${e.syscall}${typeof e.dest === 'string' ? ` to ${JSON.stringify(e.dest)}` : ''})` : '';
  return new InputError([{ subject: JSON.stringify(e.path), message: `${what}${op}` }], { cause: err });
}

/**
 * The exit code for anything thrown: ours carry one; a file-system error on a path
 * is bad input (1); anything else is a bug (70), never "a server failed".
 */
export function exitCodeOf(err: unknown): ExitCode {
  if (err instanceof HashishipError) return err.exitCode;
  return pathErrorOf(err) === undefined ? ExitCode.internal : ExitCode.badInput;
}

/**
 * Which exit code wins when several services end differently, worst first:
 * what the cluster was left in before what was refused, refusals before waiting,
 * waiting before success.
 *
 * 4 failed, not rolled back · 3 failed, rolled back · 5 placement failed ·
 * 70 internal error · 2 server error · 6 gate refused · 1 bad input ·
 * 10 promotion-ready · 0 success. A code not in the list ranks just below 70.
 */
export const ExitCodeOrder: readonly number[] = [
  ExitCode.failed,
  ExitCode.reverted,
  ExitCode.placement,
  ExitCode.internal,
  ExitCode.unreachable,
  ExitCode.gate,
  ExitCode.badInput,
  ExitCode.promotionReady,
  ExitCode.ok,
];

/** The worst of several exit codes by {@link ExitCodeOrder}; 0 for none. */
export function worstExitCode(codes: Iterable<number>): number {
  const rank = (c: number): number => {
    const i = ExitCodeOrder.indexOf(c);
    return i < 0 ? ExitCodeOrder.indexOf(ExitCode.internal) + 0.5 : i;
  };
  let worst: number = ExitCode.ok;
  for (const c of codes) if (rank(c) < rank(worst)) worst = c;
  return worst;
}

/**
 * A failure with its diagnosis: deployPlanned (src/deploy/deploy.ts) throws it so
 * callers get both the typed error (`error`, whose exit code counts) and the
 * printed lines.
 */
export class Diagnosed extends Error {
  constructor(
    readonly error: HashishipError,
    readonly lines: readonly string[],
  ) {
    super(error.message, { cause: error });
    this.name = 'Diagnosed';
  }
}
