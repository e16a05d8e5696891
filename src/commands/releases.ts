/**
 * `hashiship releases --env <env> [service]`: the release records of an
 * environment (current release of every service), or one service's history.
 */
import type { Command } from 'commander';
import { resolveConfig } from '../config/index.js';
import { describeError, redactorFromEnv } from '../deploy/cli-support.js';
import { readRelease, releasedServices, releaseHistory, type ReleaseRecord } from '../promote/records.js';
import { setExit } from './common.js';

function line(r: ReleaseRecord): string {
  const smoke = `smoke ${r.smoke.passed ? 'passed' : 'FAILED'} (${r.smoke.requests.length})`;
  const from = r.promotedFrom === undefined ? '' : ` from ${r.promotedFrom.environment} #${r.promotedFrom.seq}`;
  const rb = r.rolledBackFrom === undefined ? '' : ` replacing #${r.rolledBackFrom}`;
  return `#${r.seq}  ${r.time}  ${r.service}  ${r.digest}  build ${r.build ?? '-'}  job v${r.jobVersion}  health ${r.health.passing}/${r.health.total}  ${smoke}  ${r.via}${from}${rb}`;
}

/** Register `hashiship releases`. */
export function registerReleases(program: Command): void {
  program
    .command('releases')
    .description("an environment's release records, or one service's history")
    .requiredOption('--env <name>', 'environment')
    .argument('[service]', 'show this service\'s history')
    .option('--json', 'print one JSON document')
    .action(async (service: string | undefined, o: { env: string; json?: boolean }, cmd: Command) => {
      try {
        const config = resolveConfig({ env: process.env });
        let records: ReleaseRecord[];
        if (service !== undefined) records = await releaseHistory(config.consul, o.env, service);
        else {
          const names = await releasedServices(config.consul, o.env);
          records = (await Promise.all(names.map((n) => readRelease(config.consul, o.env, n)))).flatMap((r) => (r === undefined ? [] : [r.record]));
        }
        if (o.json === true) process.stdout.write(`${JSON.stringify({ kind: 'hashiship.releases', environment: o.env, ...(service === undefined ? {} : { service }), records }, null, 2)}\n`);
        else if (records.length === 0) process.stdout.write(`no releases${service === undefined ? '' : ` of ${service}`} in ${o.env}\n`);
        else process.stdout.write(`${records.map(line).join('\n')}\n`);
        setExit(cmd, 0);
      } catch (err) {
        const e = describeError(err, redactorFromEnv(process.env));
        process.stderr.write(e.text);
        setExit(cmd, e.exitCode);
      }
    });
}
