/**
 * Plain lines for deploy events, and a logger that keeps each service's lines
 * together when several services deploy at once.
 */
import type { DeployEvent, Event, Logger } from '../log.js';

function short(id: string): string {
  return id.slice(0, 8);
}

/** One plain line (or a few, for a diagnosis) for a deploy event; undefined for none. */
export function describeDeployEvent(e: DeployEvent): string | undefined {
  const p = `deploy   ${e.job}:`;
  switch (e.kind) {
    case 'deploy.plan':
      return `plan     ${e.job}: ${e.action === 'none' ? 'no changes' : e.action === 'keep' ? 'not in specs (kept; --prune to stop)' : e.action}${e.detail === '' ? '' : ` (${e.detail})`}`;
    case 'deploy.skip':
      return `${p} ${e.reason}`;
    case 'deploy.counts':
      return `${p} group ${JSON.stringify(e.group)} keeps count ${e.count} (spec ${e.spec}; ${e.reason})`;
    case 'deploy.register':
      return `${p} registered (job modify index ${e.jobModifyIndex}${e.evalId === '' ? '' : `, evaluation ${short(e.evalId)}`})`;
    case 'deploy.evaluation':
      return `${p} evaluation ${short(e.evalId)} ${e.status}${e.detail === undefined ? '' : `: ${e.detail}`}`;
    case 'deploy.deployment': {
      const canaries = e.canaries > 0 ? `, ${e.canaries} canar${e.canaries === 1 ? 'y' : 'ies'}` : '';
      return `${p} deployment ${short(e.deploymentId)} (v${e.version}) ${e.status}: ${e.healthy}/${e.desired} healthy${canaries} — ${e.description}`;
    }
    case 'deploy.alloc':
      return `${p} alloc ${short(e.allocId)} (${e.group}${e.canary ? ', canary' : ''}, v${e.version}) ${e.health}${e.detail === undefined ? '' : `: ${e.detail}`}`;
    case 'deploy.check':
      return `${p} alloc ${short(e.allocId)} check ${JSON.stringify(e.check)} ${e.status}${e.output === '' ? '' : `: ${e.output}`}`;
    case 'deploy.promote':
      return `${p} promoting canaries of deployment ${short(e.deploymentId)} (${e.groups.join(', ')})`;
    case 'deploy.revert':
      return `${p} deployment of version ${e.fromVersion} failed; Nomad rolls back to version ${e.toVersion}, following the revert`;
    case 'deploy.stop':
      return `${p} stopped (${e.reason})`;
    case 'deploy.diagnosis':
      return e.lines.join('\n');
    case 'deploy.done':
      return `${p} ${e.outcome}${e.exitCode === 0 ? '' : ` (exit ${e.exitCode})`} after ${e.seconds.toFixed(1)} s${e.message === '' ? '' : ` — ${e.message}`}`;
  }
}

/** True for the deploy events. */
export function isDeployEvent(e: Event): e is DeployEvent {
  return e.kind.startsWith('deploy.');
}

/** Options of {@link groupedLogger}. */
export interface GroupedOptions {
  /** Print one combined heartbeat at most this often. @default 30000 */
  readonly heartbeatMs?: number;
  readonly now?: () => number;
}

/**
 * A logger for concurrent deploys: each job's events are held back and passed
 * on together when its `deploy.done` arrives, so one service's lines are never
 * interleaved with another's. Heartbeats are combined into one line naming the
 * services still running; events without a job pass at once.
 */
export function groupedLogger(inner: Logger, opts: GroupedOptions = {}): Logger & { flush(): void } {
  const held = new Map<string, Event[]>();
  const every = opts.heartbeatMs ?? 30_000;
  const now = opts.now ?? Date.now;
  const started = now();
  let lastBeat = started;
  const log = ((e: Event) => {
    if (e.kind === 'heartbeat') {
      const t = now();
      if (t - lastBeat < every) return;
      lastBeat = t;
      const running = [...held.keys()];
      inner({
        kind: 'heartbeat',
        waitingFor: running.length === 0 ? e.waitingFor : `${running.length} service${running.length === 1 ? '' : 's'}: ${running.join(', ')}`,
        seconds: (t - started) / 1000,
      });
      return;
    }
    if (!isDeployEvent(e)) {
      inner(e);
      return;
    }
    const list = held.get(e.job) ?? [];
    list.push(e);
    if (e.kind === 'deploy.done') {
      held.delete(e.job);
      for (const x of list) inner(x);
    } else held.set(e.job, list);
  }) as Logger & { flush(): void };
  log.flush = () => {
    for (const [job, list] of held) {
      held.delete(job);
      for (const x of list) inner(x);
    }
  };
  return log;
}
