/**
 * Helpers shared by the command files: exit codes, output mode, event printing.
 */
import type { Command } from 'commander';
import { describeDeployEvent } from '../deploy/events.js';
import { escapeLines, escapeOutput } from '../errors.js';
import type { Event, Logger } from '../log.js';

/** Record the exit code a command wants; `cli.ts` returns it. */
export function setExit(cmd: Command, code: number): void {
  let root: Command = cmd;
  while (root.parent !== null) root = root.parent;
  (root as Command & { hashishipExit?: number }).hashishipExit = code;
}

/** One plain line for an event, or undefined for events not worth a line. */
export function describeEvent(e: Event): string | undefined {
  switch (e.kind) {
    case 'install.cached':
      return undefined;
    case 'install.build':
      return `install  ${e.tool} ${e.version}: ${e.step}`;
    case 'install.done':
      return `install  ${e.tool} ${e.version}: ready in ${e.seconds.toFixed(0)} s (${e.path})`;
    case 'stack.reuse':
      return `stack    ${e.component}: already running at ${e.address}`;
    case 'stack.start':
      return `stack    ${e.component}: starting at ${e.address} (pid ${e.pid})`;
    case 'stack.ready':
      return `stack    ${e.component}: healthy after ${e.seconds.toFixed(1)} s`;
    case 'stack.configure':
      return `stack    ${e.component}: ${e.step}`;
    case 'stack.stop':
      return `stack    ${e.component}: stopped (pid ${e.pid})`;
    case 'heartbeat':
      return `waiting  ${e.waitingFor} (${e.seconds.toFixed(0)} s)`;
    case 'debug':
      return undefined;
    case 'spec.skipped':
      return `skipped  ${e.path}: ${e.reason}`;
    case 'nomad.namespace':
      return `nomad    namespace ${e.namespace}: ${e.action}`;
    case 'deploy.plan':
    case 'deploy.skip':
    case 'deploy.counts':
    case 'deploy.register':
    case 'deploy.evaluation':
    case 'deploy.deployment':
    case 'deploy.alloc':
    case 'deploy.check':
    case 'deploy.promote':
    case 'deploy.revert':
    case 'deploy.stop':
    case 'deploy.diagnosis':
    case 'deploy.done':
      return describeDeployEvent(e);
    case 'consul.gate':
      return `gate     ${e.service}: ${e.passing}/${e.total} passing (${e.requirement})`;
    case 'consul.kv':
      return `kv       ${e.action} ${e.key} (index ${e.index})`;
    case 'consul.maintenance':
      return `maint    ${e.target}: ${e.enable ? 'on' : 'off'}`;
    case 'consul.service':
      return `service  ${e.action} ${e.id}${e.fields.length === 0 ? '' : ` (${e.fields.join(', ')})`}`;
    case 'fabio.weights':
      return `fabio    ${e.service}: ${e.action} ${e.rules.length === 0 ? 'weight rules' : e.rules.join('; ')}`;
    case 'fabio.routes':
      return `fabio    ${e.service}: ${e.live ? 'routes live' : `waiting: ${e.differences.join('; ')}`}`;
    case 'promote.image':
      return `image    ${e.service}: ${e.registry}/${e.repository}${e.tag === undefined ? '' : `:${e.tag}`} = ${e.digest}`;
    case 'promote.record':
      return `record   ${e.service} in ${e.environment}: release #${e.seq} ${e.digest}${e.written ? '' : ' (already recorded)'}`;
    case 'promote.smoke':
      return `smoke    ${e.service}: ${e.requests} request${e.requests === 1 ? '' : 's'} ${e.passed ? 'passed' : 'FAILED'}`;
    case 'promote.lock':
      return `lock     ${e.service} in ${e.environment}: ${e.action}`;
    case 'promote.step':
      return `promote  ${e.service}: ${e.step} ${e.status}${e.detail === '' ? '' : `: ${e.detail}`}`;
    case 'promote.weight':
      return `weight   ${e.service}: ${e.percent} % on the canary (Fabio shows ${(e.observed * 100).toFixed(1)} %), holding ${(e.holdMs / 1000).toFixed(0)} s`;
    case 'registry.blob':
      return e.action === 'skipped' ? undefined : `blob     ${e.repository}: ${e.action} ${e.digest.slice(0, 19)} (${e.size} bytes)`;
    case 'registry.manifest':
      return `manifest ${e.repository}: ${e.action} ${e.reference === e.digest ? e.digest : `${e.reference} → ${e.digest}`}`;
    case 'registry.copy':
      return `copy     ${e.source} → ${e.destination} (${e.bytes} bytes in ${e.seconds.toFixed(1)} s)`;
  }
}

/**
 * A logger printing plain lines, or NDJSON when `ndjson` is set, to stderr. Events
 * carry what servers answered (a node's name, a check's output): escaped as the
 * runner's lines are, with JSON's own escapes for NDJSON.
 */
export function printingLogger(opts: { readonly ndjson?: boolean; readonly write?: (s: string) => void } = {}): Logger {
  const write = opts.write ?? ((s: string) => process.stderr.write(s));
  return (e) => {
    if (opts.ndjson === true) {
      write(`${escapeOutput(JSON.stringify(e))}\n`);
      return;
    }
    const line = describeEvent(e);
    if (line !== undefined) write(`${escapeLines(line)}\n`);
  };
}
