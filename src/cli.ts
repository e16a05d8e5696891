#!/usr/bin/env node
/**
 * The command line: parse argv, call the library, show its events, map errors to
 * exit codes. The only file that sets `process.exitCode`.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { HashishipError, ExitCode, exitCodeOf } from './errors.js';
import { registerCommands } from './commands/index.js';
import { version } from './version.js';

export function buildProgram(): Command {
  const program = new Command('hashiship')
    .description('Ship microservices onto Nomad, Consul, Vault and Fabio.')
    .version(version)
    .showHelpAfterError()
    .exitOverride();
  registerCommands(program);
  return program;
}

/** Print an error as subject + context lines on stderr and return its exit code. */
export function reportError(err: unknown, stderr: (s: string) => void): number {
  if (err instanceof CommanderError) {
    // commander already printed its message; --help and --version are successes.
    return err.exitCode === 0 ? ExitCode.ok : ExitCode.badInput;
  }
  if (err instanceof HashishipError) {
    stderr(`Error: ${err.describe()}\n`);
    return err.exitCode;
  }
  const e = err as Error;
  stderr(`Error: internal: ${e?.message ?? String(err)}\n`);
  return exitCodeOf(err);
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    const code = (program as Command & { hashishipExit?: number }).hashishipExit;
    return code ?? ExitCode.ok;
  } catch (err) {
    return reportError(err, (s) => process.stderr.write(s));
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
