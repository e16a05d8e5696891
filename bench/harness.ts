/**
 * The benchmark harness: each `bench/*.bench.ts` file default-exports a
 * {@link Benchmark}; `npm run bench` runs them in one process, one after another,
 * and prints every figure beside its peer's as a ratio, so that the noise of the
 * machine cancels out as far as it can.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, type HashishipConfig } from '../src/config/index.js';
import { stackEnv, up, type StackOptions } from '../src/stack/stack.js';

/**
 * Short mode (`BENCH_SHORT=1`, or `npm run bench -- --short`): every benchmark runs
 * its whole path on small inputs and few rounds, so that CI (`npm test`,
 * test/integration/bench-short.test.ts) proves it still works. Its figures are not
 * measurements to quote.
 */
export const short = process.env['BENCH_SHORT'] === '1';

/** `full` normally, `small` in short mode. */
export function size<T>(full: T, small: T): T {
  return short ? small : full;
}

/** The median of some measurements (NaN for none). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? Number.NaN : s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface Figure {
  /** What was measured, e.g. "warm dev up to all-healthy". */
  readonly label: string;
  readonly value: number;
  /** e.g. "s", "ms", "MB". */
  readonly unit: string;
  /** The same measurement for a real peer (nomad, skopeo, …), when there is one. */
  readonly peer?: { readonly name: string; readonly value: number };
  /** The target, e.g. "ratio <= 0.9" or "< 30 s", printed beside the figure. */
  readonly target?: string;
}

export interface Benchmark {
  readonly name: string;
  /** Run once and return the figures. May print nothing itself. */
  run(): Promise<readonly Figure[]>;
}

export function formatFigure(f: Figure): string {
  const v = `${f.value.toFixed(f.value < 10 ? 3 : 1)} ${f.unit}`;
  const peer =
    f.peer === undefined
      ? ''
      : `  vs ${f.peer.name} ${f.peer.value.toFixed(f.peer.value < 10 ? 3 : 1)} ${f.unit}  ratio ${(f.value / f.peer.value).toFixed(2)}`;
  const target = f.target === undefined ? '' : `  (target ${f.target})`;
  return `${f.label}: ${v}${peer}${target}`;
}

/**
 * The dev stack a benchmark runs against (`HASHISHIP_CACHE`, `HASHISHIP_STACK_DIR`),
 * brought up or reused, with its environment and the configuration resolved from it.
 */
export async function benchStack(): Promise<{ readonly options: StackOptions; readonly env: Record<string, string>; readonly config: HashishipConfig }> {
  const options: StackOptions = {
    cacheDir: process.env['HASHISHIP_CACHE'] || join(homedir(), '.cache', 'hashiship'),
    ...(process.env['HASHISHIP_STACK_DIR'] ? { stateDir: process.env['HASHISHIP_STACK_DIR'] } : {}),
  };
  await up(options); // reuses a running stack
  const env = stackEnv(options);
  return { options, env, config: resolveConfig({ env, home: '/nonexistent' }) };
}
