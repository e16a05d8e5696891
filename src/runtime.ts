/**
 * The clock, the one sleep and the logger: what the library touches besides its
 * arguments and the servers (STYLE.md "side effects are parameters"). Code that
 * waits takes a {@link Clock} (or a {@link Runtime}) and defaults to
 * {@link realClock}; a test passes a clock of its own and never waits for real.
 */
import { silent, type Logger } from './log.js';

/** Time and waiting. */
export interface Clock {
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** Wait `ms`. Rejects with the signal's reason when aborted. */
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Clock, sleep and logger. */
export interface Runtime extends Clock {
  readonly log: Logger;
}

/**
 * The one sleep of the library: a timer that an AbortSignal cuts short.
 * @throws the signal's reason when it is (or becomes) aborted.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The real clock: `Date.now` and {@link sleep}. */
export const realClock: Clock = { now: () => Date.now(), sleep };

/** The real clock and timers with the given logger. */
export function realRuntime(log: Logger = silent): Runtime {
  return { now: realClock.now, sleep, log };
}
