/**
 * `hashiship deploy --env <env> [services…] --image <service>=<tag|digest> --build <n>`:
 * the shell of the release path of deploy (src/release/deploy-image.ts): flags in,
 * `deployRelease`, its result printed. The flags of a plain deploy that a release
 * deploy cannot honour (`--plan`, `--until`, `--job`) are refused, naming what made
 * it a release deploy.
 */
import { durationMs, formatResults, MAX_PARALLEL, positiveInt, resultDocument } from '../deploy/cli-support.js';
import { fabioApi } from '../fabio/routes.js';
import { deployRelease, releaseDeployDocument, releaseLines, type ReleaseMode } from '../release/deploy-image.js';
import { parseImageFlags } from '../release/image.js';
import { secretsGate } from '../vault/preflight.js';
import { refuseInapplicable } from './flags.js';
import type { RunContext } from './runner.js';

/** The deploy flags the release path reads. */
export interface ReleaseFlags {
  readonly env: string;
  readonly image?: readonly string[];
  readonly build?: string;
  readonly commit?: string;
  readonly services?: string;
  readonly environments?: string;
  readonly json?: boolean;
  readonly events?: string;
  readonly skipSecretsCheck?: boolean;
  readonly parallel?: string;
  readonly forceOwner?: boolean;
  readonly resetCounts?: boolean;
  readonly timeout?: string;
  readonly healthDeadline?: string;
  readonly healthGate?: boolean;
}

/** Run the release path of `deploy`; returns its exit code. */
export async function deployReleaseAction(c: RunContext<ReleaseFlags>, names: readonly string[], mode: ReleaseMode): Promise<number> {
  refuseInapplicable(c.cmd, ['plan', 'until', 'job', 'prune', 'force'], mode.why);
  const o = c.opts;
  const overrides = parseImageFlags(o.image ?? []);
  const parallel = positiveInt('--parallel', o.parallel, 4, MAX_PARALLEL);
  const timeoutMs = durationMs('--timeout', o.timeout);
  const healthDeadlineMs = durationMs('--health-deadline', o.healthDeadline);
  const config = c.config;
  const log = c.log;
  const clients = await c.clients();
  const r = await deployRelease(config, {
    environment: o.env,
    names,
    dirs: { ...(o.services === undefined ? {} : { services: o.services }), ...(o.environments === undefined ? {} : { environments: o.environments }) },
    overrides,
    ...(mode.build === undefined ? {} : { build: mode.build }),
    ...(o.commit === undefined || o.commit === '' ? {} : { commit: o.commit }),
    fabio: fabioApi(config.fabio.api),
    proxy: config.fabio.proxy,
    clients,
    log,
    ...(healthDeadlineMs === undefined ? {} : { healthDeadlineMs }),
    deploy: {
      parallel,
      forceOwner: o.forceOwner === true,
      resetCounts: o.resetCounts === true,
      healthGate: o.healthGate !== false,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(healthDeadlineMs === undefined ? {} : { healthDeadlineMs }),
      // The same secrets pre-flight as a plain deploy, before anything is registered.
      ...(o.skipSecretsCheck === true ? {} : { secrets: secretsGate(clients, { log }) }),
    },
  });
  if (o.json === true) c.out(`${c.redactor.text(JSON.stringify(releaseDeployDocument(r, resultDocument('deploy', r.deploy)), null, 2))}\n`);
  else {
    for (const s of r.deploy.results) if (s.error !== undefined) c.error(s.error);
    for (const f of r.failures) c.error(f.error);
    const lines = releaseLines(r);
    c.out(c.redactor.text(`${formatResults(r.deploy).replace(/exit \d+\n$/, '')}${lines.map((l) => `${l}\n`).join('')}exit ${r.exitCode}\n`));
  }
  return r.exitCode;
}
