/**
 * One promotion at a time per service and environment: a Consul lock on
 * `hashiship/locks/<env>/<service>` (a session with a TTL, renewed while the
 * promotion runs, and `?acquire=`). The key's value names the holder (build,
 * host, pid, start), so a second promotion is refused with exit 6 naming the
 * holder's build, or waits for the lock when asked to. A crashed holder's
 * session expires after its TTL and the lock frees itself (`behavior=release`).
 */
import { hostname } from 'node:os';
import type { ConsulApi } from '../consul/client.js';
import type { Consul } from '../consul/index.js';
import { GateError } from '../errors.js';
import { realClock, type Clock } from '../runtime.js';

/** The KV prefix of promotion locks. */
export const LocksPrefix = 'hashiship/locks';

/** The lock key of a service in an environment. */
export function lockKey(environment: string, service: string): string {
  return `${LocksPrefix}/${environment}/${service}`;
}

/** Who holds a lock (the key's value). */
export interface LockHolder {
  readonly build?: string;
  readonly host: string;
  readonly pid: number;
  readonly since: string;
  readonly what: string;
}

/** A held lock. */
export interface HeldLock {
  readonly key: string;
  readonly session: string;
  /** Give the lock back and destroy the session (idempotent, never throws). */
  release(): Promise<void>;
}

/** Options of {@link acquireLock}. */
export interface LockOptions {
  readonly environment: string;
  readonly service: string;
  readonly holder: Omit<LockHolder, 'host' | 'pid' | 'since'>;
  /** Wait up to this long for a held lock; 0 refuses at once. @default 0 */
  readonly waitMs?: number;
  /** Session TTL; a crashed holder's lock frees after it. @default 20000 */
  readonly ttlMs?: number;
  /** @default realClock */
  readonly clock?: Clock;
}

function describeHolder(h: LockHolder | undefined): string {
  if (h === undefined) return 'an unknown holder';
  return `${h.what}${h.build === undefined ? '' : ` of build ${h.build}`} (host ${h.host}, pid ${h.pid}, since ${h.since})`;
}

/**
 * Take the lock of a service in an environment.
 * @throws {GateError} (exit 6) naming the holder when it stays held past `waitMs`.
 * @throws {ServerError} when Consul cannot be reached.
 */
export async function acquireLock(consul: Consul, opts: LockOptions): Promise<HeldLock> {
  const client = consul.client;
  const clock = opts.clock ?? realClock;
  const key = lockKey(opts.environment, opts.service);
  const ttlS = Math.max(10, Math.round((opts.ttlMs ?? 20_000) / 1000));
  const created = (await client.call('session.create', (api) =>
    api.session.create({ name: `hashiship ${key}`, ttl: `${ttlS}s`, lockdelay: '1s', behavior: 'release' } as Parameters<ConsulApi['session']['create']>[0]),
  )) as { ID: string };
  const session = created.ID;
  const holder: LockHolder = { ...opts.holder, host: hostname(), pid: process.pid, since: new Date(clock.now()).toISOString() };
  const deadline = clock.now() + (opts.waitMs ?? 0);
  const destroy = () =>
    client
      .call('session.destroy', (api) => api.session.destroy({ id: session }))
      .then(
        () => undefined,
        () => undefined,
      );
  try {
    for (;;) {
      const ok = await client.call('kv.set', (api) => api.kv.set({ key, value: JSON.stringify(holder), acquire: session }));
      if (ok === true) break;
      if (clock.now() >= deadline) {
        const e = await consul.kv.get(key);
        let h: LockHolder | undefined;
        try {
          h = e === undefined ? undefined : (JSON.parse(e.value) as LockHolder);
        } catch {
          h = undefined;
        }
        throw new GateError(`${opts.service} in ${opts.environment} is locked by ${describeHolder(h)}`, {
          context: [
            ['Lock', key],
            ...(h?.build === undefined ? [] : ([['Holder build', h.build]] as const)),
            ['Suggestion', 'wait for it to finish (or pass --lock-wait <duration>); a crashed holder frees the lock when its session TTL expires'],
          ],
        });
      }
      await clock.sleep(Math.min(500, Math.max(1, deadline - clock.now())));
    }
  } catch (err) {
    await destroy();
    throw err;
  }
  // Renew at a third of the TTL; the promotion's own steps never block on it.
  const timer = setInterval(
    () => {
      void client.call('session.renew', (api) => api.session.renew({ id: session })).catch(() => undefined);
    },
    (ttlS * 1000) / 3,
  );
  timer.unref();
  let released = false;
  return {
    key,
    session,
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      await client.call('kv.set', (api) => api.kv.set({ key, value: '', release: session })).catch(() => undefined);
      await destroy();
    },
  };
}
