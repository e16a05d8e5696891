/**
 * Nomad blocking queries: `GET …?index=N&wait=D` returns as soon as the object's
 * index passes N, or after D with the same data. The answer's `X-Nomad-Index`
 * header is the index to send next. Watching this way reacts within
 * milliseconds and never sleeps in a loop.
 */
import type { NomadClient } from './client.js';

/** Options of one blocking read. */
export interface BlockingOptions {
  /** The last index seen; 0 or absent reads at once without blocking. */
  readonly index?: number;
  /** How long Nomad may hold the request. @default 30000 */
  readonly waitMs?: number;
  /** Aborts the request (the promise rejects with a "cancelled" ServerError). */
  readonly signal?: AbortSignal;
  /** Extra query parameters. */
  readonly params?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** Statuses that are answers (e.g. 404 for "absent"). */
  readonly accept?: readonly number[];
}

/** The answer of a blocking read. */
export interface Blocking<T> {
  readonly data: T;
  /** `X-Nomad-Index` of the answer (0 when absent). */
  readonly index: number;
  readonly status: number;
}

/** Default wait of a blocking query. */
export const DefaultWaitMs = 30_000;

/**
 * The HTTP timeout for a wait: Nomad adds up to wait/16 of jitter, then the
 * answer has to travel back.
 */
export function blockingTimeoutMs(waitMs: number): number {
  return Math.ceil(waitMs + waitMs / 16 + 10_000);
}

/**
 * The index to send with the next query. Nomad and Consul document two rules:
 * an index that goes backwards (a snapshot restore, a new leader) resets the
 * watch to 0, and an index is never below 0.
 */
export function nextIndex(previous: number, received: number): number {
  if (!Number.isFinite(received) || received < 0) return 0;
  return received < previous ? 0 : received;
}

/**
 * One blocking `GET`.
 * @throws {ServerError} when Nomad cannot be reached or answers a status not accepted.
 */
export async function blockingGet<T>(client: NomadClient, operation: string, path: string, opts: BlockingOptions = {}): Promise<Blocking<T>> {
  const waitMs = Math.max(1, Math.round(opts.waitMs ?? DefaultWaitMs));
  const index = opts.index ?? 0;
  const res = await client.request<T>(operation, {
    path,
    params: { ...opts.params, ...(index > 0 ? { index, wait: `${waitMs}ms` } : {}) },
    timeoutMs: blockingTimeoutMs(waitMs),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    ...(opts.accept === undefined ? {} : { accept: opts.accept }),
  });
  const header = Number(res.headers['x-nomad-index'] ?? '0');
  return { data: res.data, index: Number.isFinite(header) ? header : 0, status: res.status };
}
