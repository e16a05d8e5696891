/**
 * `hashiship deploy --env <env> [services…] --image <service>=<tag|digest> --build <n>`:
 * the release path of deploy (src/release/evidence.ts): resolve the images in the
 * environment's registry, deploy them pinned by digest, then record the evidence
 * (health, smoke requests through Fabio) as the environment's release record.
 * The flags of a plain deploy that a release deploy cannot honour (`--plan`,
 * `--until`, `--job`) are refused, naming what made it a release deploy.
 */
import type { Command } from 'commander';
import type { Env } from '../config/index.js';
import { durationMs, formatResults, positiveInt, resultDocument } from '../deploy/cli-support.js';
import { fabioApi } from '../fabio/routes.js';
import { deployRelease } from '../release/evidence.js';
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

/** Why a deploy is a release deploy (for messages), and its build number. */
export interface ReleaseMode {
  readonly why: string;
  readonly build?: string;
}

/**
 * A release deploy when `--image` is given, or a build number (`--build`, else
 * HASHISHIP_BUILD); undefined for a plain deploy.
 */
export function releaseMode(cmd: Command, env: Env): ReleaseMode | undefined {
  const o = cmd.opts<ReleaseFlags>();
  const fromEnv = env['HASHISHIP_BUILD'];
  const build = o.build !== undefined && o.build !== '' ? o.build : fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined;
  const images = (o.image ?? []).length > 0;
  if (!images && build === undefined) return undefined;
  const why = images
    ? '--image makes this a release deploy'
    : o.build !== undefined && o.build !== ''
      ? '--build makes this a release deploy'
      : `HASHISHIP_BUILD=${JSON.stringify(fromEnv)} makes this a release deploy (unset it for a plain deploy)`;
  return { why, ...(build === undefined ? {} : { build }) };
}

/** Run the release path of `deploy`; returns its exit code. */
export async function deployReleaseAction(c: RunContext<ReleaseFlags>, names: readonly string[], mode: ReleaseMode): Promise<number> {
  refuseInapplicable(c.cmd, ['plan', 'until', 'job', 'prune', 'force'], mode.why);
  const o = c.opts;
  const overrides = parseImageFlags(o.image ?? []);
  const parallel = positiveInt('--parallel', o.parallel, 4);
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
      ...(o.skipSecretsCheck === true ? {} : { secrets: secretsGate(config, { log, consul: clients.consul }) }),
    },
  });
  if (o.json === true) {
    const doc = {
      ...resultDocument('deploy', r.deploy),
      exitCode: r.exitCode,
      records: r.records,
      evidenceFailures: r.failures.map((f) => ({ service: f.service, error: f.error.message })),
    };
    c.out(`${c.redactor.text(JSON.stringify(doc, null, 2))}\n`);
  } else {
    for (const s of r.deploy.results) if (s.error !== undefined) c.error(s.error);
    for (const f of r.failures) c.error(f.error);
    const lines = r.records.map(
      (x) =>
        `${x.service}: release #${x.seq} in ${x.environment}: ${x.digest}${x.build === undefined ? '' : ` (build ${x.build})`}, smoke ${x.smoke.passed ? 'passed' : 'FAILED'}`,
    );
    c.out(c.redactor.text(`${formatResults(r.deploy).replace(/exit \d+\n$/, '')}${lines.map((l) => `${l}\n`).join('')}exit ${r.exitCode}\n`));
  }
  return r.exitCode;
}
