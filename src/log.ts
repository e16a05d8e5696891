/**
 * Typed progress events. The library never prints: it calls the injected
 * {@link Logger} with events, and the CLI (or a test) decides how to show them.
 */

export type StackComponent = 'consul' | 'nomad' | 'vault' | 'fabio' | 'registry-qa' | 'registry-production' | 'docker';

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
  /** A Nomad namespace the environment declares was created (deploy; never changed or deleted). */
  | { readonly kind: 'nomad.namespace'; readonly namespace: string; readonly action: 'created' }
  | { readonly kind: 'spec.skipped'; readonly path: string; readonly reason: string }
  | DeployEvent
  | RoutingEvent
  | RegistryEvent
  | PromoteEvent
  | { readonly kind: 'debug'; readonly message: string };

/** Allocation health as the deploy watch reports it. */
export type AllocHealth = 'placed' | 'running' | 'healthy' | 'unhealthy' | 'failed' | 'complete' | 'lost' | 'stopped';

/** How a service's deploy ended. */
export type DeployOutcome =
  'successful' | 'unchanged' | 'registered' | 'promotion-ready' | 'reverted' | 'failed' | 'placement' | 'refused' | 'error' | 'stopped';

/** Progress of plan, deploy and promote-canaries (src/deploy); every event names its job. */
export type DeployEvent =
  | { readonly kind: 'deploy.plan'; readonly job: string; readonly action: 'create' | 'update' | 'none' | 'stop' | 'keep'; readonly detail: string }
  | { readonly kind: 'deploy.skip'; readonly job: string; readonly reason: string }
  | {
      readonly kind: 'deploy.counts';
      readonly job: string;
      readonly group: string;
      readonly count: number;
      readonly spec: number;
      readonly reason: string;
    }
  | { readonly kind: 'deploy.register'; readonly job: string; readonly evalId: string; readonly jobModifyIndex: number }
  | { readonly kind: 'deploy.evaluation'; readonly job: string; readonly evalId: string; readonly status: string; readonly detail?: string }
  | {
      readonly kind: 'deploy.deployment';
      readonly job: string;
      readonly deploymentId: string;
      readonly version: number;
      readonly status: string;
      readonly description: string;
      readonly healthy: number;
      readonly desired: number;
      readonly canaries: number;
      /** When Nomad changed the deployment (ms since the epoch), from its ModifyTime. */
      readonly changedAt?: number;
    }
  | {
      readonly kind: 'deploy.alloc';
      readonly job: string;
      readonly allocId: string;
      readonly group: string;
      readonly version: number;
      readonly health: AllocHealth;
      readonly canary: boolean;
      readonly node?: string;
      readonly detail?: string;
    }
  | {
      readonly kind: 'deploy.check';
      readonly job: string;
      readonly allocId: string;
      readonly check: string;
      readonly status: string;
      readonly output: string;
    }
  | { readonly kind: 'deploy.promote'; readonly job: string; readonly deploymentId: string; readonly groups: readonly string[] }
  | { readonly kind: 'deploy.revert'; readonly job: string; readonly fromVersion: number; readonly toVersion: number }
  | { readonly kind: 'deploy.stop'; readonly job: string; readonly reason: string }
  | { readonly kind: 'deploy.diagnosis'; readonly job: string; readonly lines: readonly string[] }
  | {
      readonly kind: 'deploy.done';
      readonly job: string;
      readonly outcome: DeployOutcome;
      readonly exitCode: number;
      readonly seconds: number;
      readonly message: string;
    };

/** Progress of the Consul health gate, Consul KV writes and Fabio weights (src/consul, src/fabio). */
export type RoutingEvent =
  | {
      readonly kind: 'consul.gate';
      readonly service: string;
      readonly passing: number;
      readonly total: number;
      readonly requirement: string;
    }
  | { readonly kind: 'consul.kv'; readonly key: string; readonly action: 'write' | 'delete'; readonly index: number }
  | { readonly kind: 'consul.maintenance'; readonly target: string; readonly enable: boolean }
  | { readonly kind: 'consul.service'; readonly action: 'add' | 'update' | 'remove'; readonly id: string; readonly fields: readonly string[] }
  | { readonly kind: 'fabio.weights'; readonly service: string; readonly action: 'write' | 'remove'; readonly rules: readonly string[] }
  | { readonly kind: 'fabio.routes'; readonly service: string; readonly live: boolean; readonly differences: readonly string[] };

/** Progress of image copies and pushes (src/registry). */
export type RegistryEvent =
  | {
      readonly kind: 'registry.blob';
      /** `host/repository` the blob went to. */
      readonly repository: string;
      readonly digest: string;
      readonly size: number;
      readonly action: 'copied' | 'mounted' | 'skipped' | 'pushed';
    }
  | {
      readonly kind: 'registry.manifest';
      readonly repository: string;
      /** The tag or digest it was pushed under. */
      readonly reference: string;
      readonly digest: string;
      readonly action: 'pushed' | 'skipped';
    }
  | {
      readonly kind: 'registry.copy';
      readonly source: string;
      readonly destination: string;
      readonly digest: string;
      readonly bytes: number;
      readonly seconds: number;
    };

/** Progress of release records and promotions (src/release). */
export type PromoteEvent =
  | {
      readonly kind: 'promote.image';
      readonly service: string;
      readonly repository: string;
      readonly registry: string;
      readonly digest: string;
      readonly tag?: string;
    }
  | {
      readonly kind: 'promote.record';
      readonly service: string;
      readonly environment: string;
      readonly seq: number;
      readonly digest: string;
      readonly written: boolean;
    }
  | { readonly kind: 'promote.smoke'; readonly service: string; readonly passed: boolean; readonly requests: number }
  | { readonly kind: 'promote.lock'; readonly service: string; readonly environment: string; readonly action: 'acquired' | 'released' }
  | {
      readonly kind: 'promote.step';
      readonly service: string;
      readonly step: string;
      readonly status: 'start' | 'done' | 'skip' | 'fail';
      readonly detail: string;
    }
  | {
      readonly kind: 'promote.weight';
      readonly service: string;
      readonly percent: number;
      /** What Fabio's /api/routes showed for the canary targets, e.g. `0.1` (weights summed). */
      readonly observed: number;
      readonly holdMs: number;
    };

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
