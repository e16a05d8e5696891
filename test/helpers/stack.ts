/**
 * The real stack for integration tests: `useStack()` brings it up once per mocha
 * run (reusing a running one) and the root hook in stack-hook.ts stops only what
 * this run started. Unit-only runs never touch it.
 */
import { createClients, type Clients } from '../../src/clients.js';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, type HashishipConfig } from '../../src/config/index.js';
import type { Event, StackComponent } from '../../src/log.js';
import { down, stackEnv, up, type StackOptions } from '../../src/stack/stack.js';

export interface TestStack {
  /** Variables pointing at the stack (NOMAD_ADDR, VAULT_TOKEN, …). */
  readonly env: Readonly<Record<string, string>>;
  /** hashiship configuration resolved from `env`. */
  readonly config: HashishipConfig;
  /** The root clients of `config`, built once per run as the CLI builds them. */
  readonly clients: Clients;
  readonly options: StackOptions;
}

let pending: Promise<TestStack> | undefined;
let startedHere: readonly StackComponent[] = [];

export function testStackOptions(): StackOptions {
  const cacheDir = process.env['HASHISHIP_CACHE'] || join(homedir(), '.cache', 'hashiship');
  const stateDir = process.env['HASHISHIP_STACK_DIR'];
  const log = (e: Event) => {
    if (e.kind === 'install.build' || e.kind === 'install.done' || e.kind === 'heartbeat') {
      process.stderr.write(`      [stack] ${JSON.stringify(e)}\n`);
    }
  };
  return { cacheDir, ...(stateDir ? { stateDir } : {}), log };
}

/** Bring the stack up (once per run) and return its environment. */
export function useStack(): Promise<TestStack> {
  pending ??= (async () => {
    const options = testStackOptions();
    const r = await up(options);
    startedHere = r.started;
    const env = stackEnv(options);
    const config = resolveConfig({ env, home: '/nonexistent' });
    return { env, options, config, clients: createClients(config, env) };
  })();
  return pending;
}

/** Called by the root hook after all tests. */
export async function releaseStack(): Promise<void> {
  if (pending === undefined) return;
  const s = await pending.catch(() => undefined);
  if (s !== undefined && startedHere.length > 0 && process.env['HASHISHIP_KEEP_STACK'] !== '1') {
    await down({ ...s.options, only: startedHere });
  }
}
