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

/** Base class: a subject, context lines and an exit code. */
export abstract class HashishipError extends Error {
  abstract readonly exitCode: ExitCode;
  readonly context: readonly ContextLine[];

  constructor(subject: string, details: ErrorDetails = {}) {
    super(subject, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.context = details.context ?? [];
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
 * (zero-width spaces, bidi overrides such as U+202E, tag characters): what could
 * make a line on a terminal read differently from what it holds.
 */
const UNSAFE =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\ud800-\udfff]|[\u{e0000}-\u{e0fff}]/gu;

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

/** Exit 1: bad input — spec, environment file, variable or flag. Nothing was contacted. */
export class InputError extends HashishipError {
  readonly exitCode = ExitCode.badInput;
  readonly problems: readonly InputProblem[];

  constructor(problems: readonly InputProblem[], details: ErrorDetails = {}) {
    const first = problems[0];
    const subject =
      problems.length === 1 && first !== undefined
        ? formatProblem(first)
        : `${problems.length} problems in the input`;
    super(subject, details);
    this.problems = problems;
  }

  override describe(): string {
    if (this.problems.length <= 1) return super.describe();
    return [this.message, ...this.problems.map((p) => `  ${formatProblem(p)}`)].join('\n');
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

  constructor(
    server: string,
    operation: string,
    address: string,
    reason: string,
    details: ErrorDetails & { readonly status?: number } = {},
  ) {
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

/** The exit code for anything thrown: ours carry one, anything else is a bug (exit 2). */
export function exitCodeOf(err: unknown): ExitCode {
  return err instanceof HashishipError ? err.exitCode : ExitCode.unreachable;
}
