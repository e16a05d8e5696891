/**
 * Flags shared by the commands: the server flags (`--nomad-addr`, `--consul-token`,
 * …) that every command talking to a server takes, and the checks that make a
 * repeated flag or a flag that does not apply an error naming it.
 */
import { statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { Option, type Command } from 'commander';
import type { ConfigFlags } from '../config/index.js';
import { InputError, type InputProblem } from '../errors.js';
import { ENVIRONMENT_NAME, ENVIRONMENT_NAME_HINT, JOB_ID } from '../service-spec/schema.js';

/** The servers a command can talk to; each brings its flags. */
export type Server = 'nomad' | 'consul' | 'vault' | 'fabio';

const SERVER_FLAGS: Readonly<Record<Server, readonly (readonly [flags: string, help: string])[]>> = {
  nomad: [
    ['--nomad-addr <url>', 'Nomad HTTP API (NOMAD_ADDR, default http://127.0.0.1:4646)'],
    ['--nomad-token <token>', 'Nomad ACL token (NOMAD_TOKEN)'],
    ['--nomad-region <region>', 'Nomad region (NOMAD_REGION)'],
    ['--nomad-namespace <namespace>', 'Nomad namespace, the default where the environment names none (NOMAD_NAMESPACE)'],
  ],
  consul: [
    ['--consul-addr <addr>', 'Consul HTTP API, host:port or http(s)://host:port (CONSUL_HTTP_ADDR, default 127.0.0.1:8500)'],
    ['--consul-token <token>', 'Consul ACL token (CONSUL_HTTP_TOKEN, CONSUL_HTTP_TOKEN_FILE)'],
  ],
  vault: [
    ['--vault-addr <url>', 'Vault API (VAULT_ADDR, default https://127.0.0.1:8200)'],
    ['--vault-token <token>', 'Vault token (VAULT_TOKEN, ~/.vault-token)'],
    ['--vault-namespace <namespace>', 'Vault Enterprise namespace (VAULT_NAMESPACE)'],
  ],
  fabio: [
    ['--fabio <url>', "Fabio's UI/API address (HASHISHIP_FABIO_ADDR, default http://127.0.0.1:9998)"],
    ['--fabio-proxy <url>', "Fabio's proxy for smoke requests (HASHISHIP_FABIO_PROXY, default http://127.0.0.1:9999)"],
  ],
};

const serverCommands = new WeakMap<Command, { readonly servers: readonly Server[]; readonly always: boolean }>();

/**
 * Add the flags of the servers a command talks to. The runner resolves the
 * configuration from them (defaults → environment → flags) before the action runs;
 * with `always: false` (a command that talks to a server in one mode only) on
 * first use, still before the first request.
 */
export function serverFlags(cmd: Command, servers: readonly Server[], opts: { readonly always?: boolean } = {}): Command {
  for (const s of servers) {
    for (const [flags, help] of SERVER_FLAGS[s]) cmd.addOption(new Option(flags, help).helpGroup('Server options:'));
  }
  serverCommands.set(cmd, { servers, always: opts.always ?? true });
  return cmd;
}

/** True when a command talks to a server whatever its flags: resolve the configuration before its action. */
export function resolvesFirst(cmd: Command): boolean {
  return serverCommands.get(cmd)?.always === true;
}

/** The configuration flags among a command's options. */
export function configFlagsOf(o: Readonly<Record<string, unknown>>): ConfigFlags {
  const keys = [
    ['nomadAddr', 'nomadAddr'],
    ['nomadToken', 'nomadToken'],
    ['nomadRegion', 'nomadRegion'],
    ['nomadNamespace', 'nomadNamespace'],
    ['consulAddr', 'consulAddr'],
    ['consulToken', 'consulToken'],
    ['vaultAddr', 'vaultAddr'],
    ['vaultToken', 'vaultToken'],
    ['vaultNamespace', 'vaultNamespace'],
    ['fabio', 'fabioAddr'],
    ['fabioProxy', 'fabioProxy'],
  ] as const;
  const out: Record<string, string> = {};
  for (const [opt, flag] of keys) {
    const v = o[opt];
    if (typeof v === 'string') out[flag] = v;
  }
  return out as ConfigFlags;
}

/** The long flag of an option, for messages (`--env`). */
function flagName(o: Option): string {
  return o.long ?? o.short ?? o.name();
}

/**
 * Make every single-valued option of every command refuse to be given twice:
 * commander keeps the last value silently (`--env qa --env production` would
 * deploy to production). Options with their own parser (repeatable ones) keep it.
 */
export function refuseRepeats(cmd: Command): void {
  for (const o of cmd.options) {
    if (o.parseArg !== undefined || o.variadic || (!o.required && !o.optional)) continue;
    let seen: string | undefined;
    o.argParser((value: string) => {
      if (seen !== undefined) {
        throw new InputError([{ subject: flagName(o), message: `given twice (${JSON.stringify(seen)}, ${JSON.stringify(value)}); it takes one value` }]);
      }
      seen = value;
      return value;
    });
  }
  for (const c of cmd.commands) refuseRepeats(c);
}

/** True when the user gave an option on the command line (not a default, not a variable). */
export function given(cmd: Command, name: string): boolean {
  return cmd.getOptionValueSource(name) === 'cli';
}

/**
 * Refuse options that do not apply in a mode, naming each and why.
 * @param names attribute names of the options (`forceOwner`).
 * @throws {InputError} when any was given.
 */
export function refuseInapplicable(cmd: Command, names: readonly string[], why: string): void {
  const problems: InputProblem[] = [];
  for (const name of names) {
    const o = cmd.options.find((x) => x.attributeName() === name);
    if (o !== undefined && given(cmd, name)) problems.push({ subject: flagName(o), message: `does not apply: ${why}` });
  }
  if (problems.length > 0) throw new InputError(problems);
}

/** `--events`: only `ndjson`. @throws {InputError} otherwise. */
export function eventsFlag(value: unknown): boolean {
  if (value === undefined) return false;
  if (value !== 'ndjson') throw new InputError([{ subject: `--events=${JSON.stringify(value)}`, message: 'expected ndjson' }]);
  return true;
}

/**
 * An output directory flag: absent or a directory, never a file.
 * @throws {InputError} naming the flag when it names something else.
 */
export function outDir(flag: string, path: string | undefined): void {
  if (path === undefined) return;
  nonEmptyPath(flag, path, 'a folder');
  const st = statSync(path, { throwIfNoEntry: false });
  if (st !== undefined && !st.isDirectory()) {
    throw new InputError([{ subject: `${flag}=${JSON.stringify(path)}`, message: 'exists and is not a directory (expected a directory to write into)' }]);
  }
}

/**
 * An output file flag: absent or a regular file that will be replaced, never a directory.
 * @throws {InputError} naming the flag when it names a directory or something else.
 */
export function outFile(flag: string, path: string | undefined): void {
  if (path === undefined) return;
  nonEmptyPath(flag, path, 'a file');
  const subject = `${flag}=${JSON.stringify(path)}`;
  const st = statSync(path, { throwIfNoEntry: false });
  if (st !== undefined && !st.isFile()) {
    throw new InputError([{ subject, message: `is ${st.isDirectory() ? 'a directory' : 'not a regular file'} (expected a file to write)` }]);
  }
  // The file is written after the servers answered: a missing folder must not surface only then.
  let parent: Stats | undefined;
  try {
    parent = statSync(dirname(path), { throwIfNoEntry: false });
  } catch {
    parent = undefined; // ENOTDIR, ELOOP, EACCES: the same answer
  }
  if (parent === undefined || !parent.isDirectory()) {
    throw new InputError([{ subject, message: `the folder ${JSON.stringify(dirname(path))} does not exist (expected a file in an existing folder)` }]);
  }
}

/**
 * A path flag given as the empty string (`--out ''`, often an unset shell
 * variable): an error, not the current folder.
 * @throws {InputError} naming the flag.
 */
export function nonEmptyPath(flag: string, path: string | undefined, what: string): void {
  if (path === '') throw new InputError([{ subject: `${flag}=""`, message: `empty (expected ${what}; is a shell variable unset?)` }]);
}

/** The problem with an environment name given as `--env`, if it is not one an environment file can have. */
export function environmentNameProblem(env: string): InputProblem | undefined {
  return ENVIRONMENT_NAME.test(env) ? undefined : { subject: `--env=${JSON.stringify(env)}`, message: `not an environment name: ${ENVIRONMENT_NAME_HINT}` };
}

/**
 * An environment name and service (job) names given on the command line, checked
 * before the first request: they become Consul KV paths
 * (`hashiship/releases/<env>/<service>`) and Nomad filters, so `../x` or a control
 * character must never reach a server.
 * @throws {InputError} naming each one that is not a name a spec can have.
 */
export function checkNames(env: string, names: readonly string[], what: 'service' | 'job'): void {
  const problems: InputProblem[] = [];
  const bad = environmentNameProblem(env);
  if (bad !== undefined) problems.push(bad);
  for (const n of names) {
    if (!JOB_ID.test(n))
      problems.push({ subject: JSON.stringify(n), message: `not a ${what} name: lower-case letters, digits and dashes, or dot-separated parts of that form` });
  }
  if (problems.length > 0) throw new InputError(problems);
}
