#!/usr/bin/env node
/**
 * The command line: parse argv, run the command (src/commands/runner.ts resolves
 * the configuration and validates input first), print errors redacted and map
 * them to exit codes — here and nowhere else. The only file that sets
 * `process.exitCode`.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { OutputRedactor } from './redact.js';
import { Diagnosed, HashishipError, ExitCode, InternalError, escapeLines, pathErrorOf } from './errors.js';
import { registerCommands } from './commands/index.js';
import { refuseRepeats } from './commands/flags.js';
import { attachSession, errorExitOf, processSession, type Session } from './commands/runner.js';
import { version } from './version.js';

/**
 * The program with the verb `only` (when it names one) or with every verb
 * (src/commands/index.ts loads each verb's module when it is needed).
 */
export async function buildProgram(session: Session = processSession(), only?: string): Promise<Command> {
  const program = new Command('hashiship')
    .description('Ship microservices onto Nomad, Consul, Vault and Fabio.')
    .version(version)
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => session.stdout(s),
      // commander echoes what it refuses (`unknown option '--…'`): escape control characters and cut long lines.
      writeErr: (s) => session.stderr(session.redactor.text(escapeLines(s, 2000))),
    });
  await registerCommands(program, only);
  refuseRepeats(program);
  attachSession(program, session);
  return program;
}

/**
 * The command argv names, found before commander parses (which would print the
 * main help for `hashiship no-such-verb --help` and exit 0). An unknown command
 * name is refused here with commander's own message and suggestion.
 */
function targetOf(program: Command, argv: readonly string[]): Command {
  let cmd = program;
  for (const word of argv) {
    if (cmd.commands.length === 0 || word.startsWith('-')) break;
    const next = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (next === undefined) {
      if (word === 'help') break;
      cmd.args = [word];
      (cmd as Command & { unknownCommand(): never }).unknownCommand(); // prints, then throws (exitOverride)
    }
    cmd = next!;
  }
  return cmd;
}

/**
 * Print an error as subject + context lines on stderr, redacted, and return its
 * exit code: a typed error's own; a file-system error on a path is bad input (1);
 * anything else is an internal error (70), never "a server failed".
 */
export function reportError(err: unknown, stderr: (s: string) => void, redactor: OutputRedactor = new OutputRedactor()): number {
  if (err instanceof CommanderError) {
    // commander already printed its message; --help and --version are successes.
    return err.exitCode === 0 ? ExitCode.ok : ExitCode.badInput;
  }
  const lines = err instanceof Diagnosed ? err.lines : [];
  const cause = err instanceof Diagnosed ? err.error : err;
  const e =
    cause instanceof HashishipError
      ? cause
      : (pathErrorOf(cause) ??
        new InternalError(`internal error: ${(cause as Error)?.message ?? String(cause)}`, {
          context: [['Note', 'this is a bug in hashiship, not in your input or a server; please report it with the command that ran']],
          cause,
        }));
  // Escaped: a server error's subject and context echo operands and answers (`kv.get hashiship/releases/qa/<ESC>…`).
  stderr(redactor.text(escapeLines(`Error: ${e.describe()}\n${lines.map((l) => `${l}\n`).join('')}`)));
  return e.exitCode;
}

/** Run the program on `argv` (without `node cli.js`) and return its exit code. */
export async function main(argv: readonly string[], session: Session = processSession()): Promise<number> {
  let target: Command | undefined;
  try {
    // Only the verb that runs is loaded: the first word, unless it is help or an option.
    const program = await buildProgram(session, argv[0]);
    target = program;
    target = targetOf(program, argv);
    await program.parseAsync([...argv], { from: 'user' });
    const code = (program as Command & { hashishipExit?: number }).hashishipExit;
    return code ?? ExitCode.ok;
  } catch (err) {
    const code = reportError(err, session.stderr, session.redactor);
    return (target === undefined ? undefined : errorExitOf(target))?.(code) ?? code;
  }
}

/** True when this file is the program being run (not imported by a test). */
function isEntryPoint(): boolean {
  const argv1 = process.argv[1];
  if (argv1 === undefined) return false;
  try {
    return realpathSync(argv1) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.exitCode = reportError(err, (s) => process.stderr.write(s));
    },
  );
}
