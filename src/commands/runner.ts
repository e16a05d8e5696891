/**
 * The one way a command runs. {@link run} wraps a command's action: it checks the
 * flags every command shares (`--events`, `HASHISHIP_LOG`), resolves the
 * configuration once (defaults → environment → the command's server flags) before
 * the action can contact anything, adds its secrets to the session's redactor,
 * and hands the action a redacting logger. Actions return their exit code and
 * throw typed errors; `cli.ts` prints those (redacted) and maps them to exit codes.
 */
import type { Command } from 'commander';
import type { Clients } from '../clients.js';
import { logLevelOf, resolveConfig, type Env, type HashishipConfig } from '../config/index.js';
import { configSecrets, redactorFromEnv, type OutputRedactor } from '../redact.js';
import { escapeLines, escapeOutput, type HashishipError } from '../errors.js';
import type { Logger } from '../log.js';
import { describeEvent, setExit } from './common.js';
import { configFlagsOf, eventsFlag, resolvesFirst } from './flags.js';
import { load } from './lazy.js';

/** What one run of the program reads and writes. Tests pass their own. */
export interface Session {
  readonly env: Env;
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
  /** Every secret known so far (from the environment, then the resolved configuration). */
  readonly redactor: OutputRedactor;
}

/** A session on this process: `process.env`, its stdout and stderr. */
export function processSession(env: Env = process.env): Session {
  return {
    env,
    stdout: (s) => void process.stdout.write(s),
    stderr: (s) => void process.stderr.write(s),
    redactor: redactorFromEnv(env),
  };
}

const sessions = new WeakMap<Command, Session>();

/** Attach the session a program's commands run in. */
export function attachSession(program: Command, session: Session): void {
  sessions.set(program, session);
}

function rootOf(cmd: Command): Command {
  let root = cmd;
  while (root.parent !== null) root = root.parent;
  return root;
}

/** The session of a command's program (a process session when none was attached). */
export function sessionOf(cmd: Command): Session {
  const root = rootOf(cmd);
  let s = sessions.get(root);
  if (s === undefined) {
    s = processSession();
    sessions.set(root, s);
  }
  return s;
}

/** What an action is handed. */
export interface RunContext<O> {
  /** The command's options (server flags included). */
  readonly opts: O;
  readonly cmd: Command;
  readonly env: Env;
  /** The configuration, resolved once: before the action for commands with server flags, else on first use. */
  readonly config: HashishipConfig;
  /**
   * The root clients of {@link RunContext.config} (`nomad`, `consul`, `vault`, `registries`),
   * built once per run on first use and passed down to the library.
   */
  clients(): Promise<Clients>;
  /** Progress events: plain lines or NDJSON (`--events ndjson`) on stderr, redacted; debug lines with HASHISHIP_LOG=debug. */
  readonly log: Logger;
  readonly ndjson: boolean;
  readonly redactor: OutputRedactor;
  /**
   * Write to stdout with the known secrets (configured tokens) removed and control
   * characters escaped as on stderr ({@link escapeOutput}: line breaks and tabs kept,
   * `--json` documents unchanged in meaning): what servers answered (status
   * descriptions, task events, KV values) reaches the terminal as text. Commands
   * redact documents that may hold other secrets with {@link RunContext.redactor}.
   */
  out(s: string): void;
  /**
   * Write a generated file's text to stdout as it would be written to disk, known
   * secrets removed but nothing escaped (`render`'s HCL, `agent-config`'s files): a
   * heredoc may hold a no-break space or a variation selector that is the point.
   * Never for text that came from a server.
   */
  verbatim(s: string): void;
  /** Write to stdout exactly (`secrets get --field`, whose value is the point). */
  raw(s: string): void;
  /** Write to stderr, redacted. */
  err(s: string): void;
  /** Print an error that does not end the command (one service of several), redacted. */
  error(e: HashishipError): void;
}

/**
 * Wrap a command's action. The action receives the context and the command's
 * operands, and returns its exit code (or nothing for 0).
 */
export function run<O, A extends unknown[]>(
  action: (c: RunContext<O>, ...operands: A) => Promise<number | void> | number | void,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const operands = args.slice(0, -2) as A;
    const session = sessionOf(cmd);
    const opts = cmd.opts() as O & Record<string, unknown>;
    const ndjson = eventsFlag(cmd.optsWithGlobals<{ events?: string }>().events);
    const level = logLevelOf(session.env);
    let config: HashishipConfig | undefined;
    const resolve = (): HashishipConfig => {
      if (config === undefined) {
        config = resolveConfig({ env: session.env, flags: configFlagsOf(opts) });
        session.redactor.add(...configSecrets(config));
      }
      return config;
    };
    // Commands that talk to a server resolve it all before their first request.
    if (resolvesFirst(cmd)) resolve();
    let clients: Promise<Clients> | undefined;
    // Progress lines and errors echo what servers answer (task events, messages): escaped like every error.
    // An NDJSON event is never cut (it would no longer parse), and escaped as stdout is: its escapes (`\u202e`, a tag
    // character as `\udb40\udc41`) are JSON's own.
    const err = (s: string, max = 8000): void => session.stderr(session.redactor.text(escapeLines(s, max)));
    const log: Logger = (e) => {
      if (ndjson) session.stderr(session.redactor.text(`${escapeOutput(JSON.stringify(e))}\n`));
      else if (e.kind === 'debug') {
        if (level === 'debug') err(`debug    ${e.message}\n`);
      } else {
        const line = describeEvent(e);
        if (line !== undefined) err(`${line}\n`);
      }
    };
    const ctx: RunContext<O> = {
      opts,
      cmd,
      env: session.env,
      get config() {
        return resolve();
      },
      // Built on first use, and loaded then: a command that contacts no server (render, validate) does not load
      // the clients (see lazy.ts for why this is not a plain `import()`).
      clients: () => (clients ??= load<typeof import('../clients.js')>('../clients.js').then(({ createClients }) => createClients(resolve(), session.env))),
      log,
      ndjson,
      redactor: session.redactor,
      out: (s) => session.stdout(session.redactor.known(escapeOutput(s))),
      verbatim: (s) => session.stdout(session.redactor.known(s)),
      raw: session.stdout,
      err: (s) => err(s),
      error: (e) => err(`Error: ${e.describe()}\n`),
    };
    const code = await action(ctx, ...operands);
    if (typeof code === 'number') setExit(cmd, code);
  };
}

const errorExits = new WeakMap<Command, (code: number) => number>();

/**
 * A command whose errors exit with codes of its own convention (plan: 255, as the
 * Nomad CLI): `cli.ts` passes the contract's code through `map`.
 */
export function errorExit(cmd: Command, map: (code: number) => number): Command {
  errorExits.set(cmd, map);
  return cmd;
}

/** The error exit mapping of a command, if it has one. */
export function errorExitOf(cmd: Command): ((code: number) => number) | undefined {
  return errorExits.get(cmd);
}
