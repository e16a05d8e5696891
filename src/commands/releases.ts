/**
 * `hashiship releases --env <env> [service]`: the release records of an
 * environment (current release of every service), or one service's history.
 */
import type { Command } from 'commander';
import { escapeText } from '../errors.js';
import { readRelease, releasedServices, releaseHistory, type ReleaseRecord } from '../release/records.js';
import { checkNames, serverFlags } from './flags.js';
import { run, type RunContext } from './runner.js';

function line(r: ReleaseRecord): string {
  const smoke = `smoke ${r.smoke.passed ? 'passed' : 'FAILED'} (${r.smoke.requests.length})`;
  const from = r.promotedFrom === undefined ? '' : ` from ${r.promotedFrom.environment} #${r.promotedFrom.seq}`;
  const rb = r.rolledBackFrom === undefined ? '' : ` replacing #${r.rolledBackFrom}`;
  return `#${r.seq}  ${r.time}  ${r.service}  ${r.digest}  build ${r.build ?? '-'}  job v${r.jobVersion}  health ${r.health.passing}/${r.health.total}  ${smoke}  ${r.via}${from}${rb}`;
}

/** Register `hashiship releases`. */
export function registerReleases(program: Command): void {
  serverFlags(
    program
      .command('releases')
      .description("an environment's release records, or one service's history")
      .requiredOption('--env <name>', 'environment')
      .argument('[service]', "show this service's history")
      .option('--json', 'print one JSON document'),
    ['consul'],
  ).action(
    run(async (c: RunContext<{ env: string; json?: boolean }>, service: string | undefined) => {
      const { env, json } = c.opts;
      checkNames(env, service === undefined ? [] : [service], 'service');
      const { consul } = await c.clients();
      let records: ReleaseRecord[];
      if (service !== undefined) records = await releaseHistory(consul, env, service);
      else {
        const names = await releasedServices(consul, env);
        records = (await Promise.all(names.map((n) => readRelease(consul, env, n)))).flatMap((r) => (r === undefined ? [] : [r.record]));
      }
      if (json === true)
        c.out(`${JSON.stringify({ kind: 'hashiship.releases', environment: env, ...(service === undefined ? {} : { service }), records }, null, 2)}\n`);
      else if (records.length === 0) c.out(`no releases${service === undefined ? '' : ` of ${service}`} in ${env}\n`);
      // A record is whatever Consul KV holds under the key: one escaped line each, so a line break in a field cannot forge a record.
      else c.out(`${records.map((r) => escapeText(line(r))).join('\n')}\n`);
    }),
  );
}
