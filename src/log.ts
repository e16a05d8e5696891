/**
 * Typed progress events. The library never prints: it calls the injected
 * {@link Logger} with events, and the CLI (or a test) decides how to show them.
 */

export type StackComponent =
  | 'consul'
  | 'nomad'
  | 'vault'
  | 'fabio'
  | 'registry-qa'
  | 'registry-production';

export type Event =
  | { readonly kind: 'install.cached'; readonly tool: string; readonly version: string; readonly path: string }
  | { readonly kind: 'install.build'; readonly tool: string; readonly version: string; readonly step: string }
  | {
      readonly kind: 'install.done';
      readonly tool: string;
      readonly version: string;
      readonly path: string;
      readonly seconds: number;
    }
  | { readonly kind: 'stack.reuse'; readonly component: StackComponent; readonly address: string }
  | { readonly kind: 'stack.start'; readonly component: StackComponent; readonly address: string; readonly pid: number }
  | { readonly kind: 'stack.ready'; readonly component: StackComponent; readonly address: string; readonly seconds: number }
  | { readonly kind: 'stack.configure'; readonly component: StackComponent; readonly step: string }
  | { readonly kind: 'stack.stop'; readonly component: StackComponent; readonly pid: number }
  | { readonly kind: 'heartbeat'; readonly waitingFor: string; readonly seconds: number }
  | { readonly kind: 'debug'; readonly message: string };

export type EventKind = Event['kind'];

/** Receives every event. Must not throw. */
export type Logger = (event: Event) => void;

/** A logger that drops everything. */
export const silent: Logger = () => {};

/** A logger that keeps events in memory, for tests and `--json` output. */
export function collecting(): Logger & { readonly events: Event[] } {
  const events: Event[] = [];
  const log = ((e: Event) => {
    events.push(e);
  }) as Logger & { events: Event[] };
  log.events = events;
  return log;
}

/**
 * Replaces every known secret value in a text with `<redacted>`. Secrets shorter
 * than 4 characters are ignored to avoid blanking ordinary words.
 */
export class Redactor {
  readonly #secrets = new Set<string>();

  add(...values: readonly (string | undefined)[]): this {
    for (const v of values) if (v !== undefined && v.length >= 4) this.#secrets.add(v);
    return this;
  }

  redact(text: string): string {
    let out = text;
    for (const s of [...this.#secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join('<redacted>');
    return out;
  }
}
