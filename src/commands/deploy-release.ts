/**
 * `hashiship deploy --env <env> [services…] --image <service>=<tag|digest> --build <n>`:
 * the release path of deploy (src/promote/evidence.ts): resolve the images in the
 * environment's registry, deploy them pinned by digest, then record the evidence
 * (health, smoke requests through Fabio) as the environment's release record.
 */
import type { Command } from 'commander';
import { resolveConfig } from '../config/index.js';
import { describeError, formatResults, redactorFromEnv, resultDocument } from '../deploy/cli-support.js';
import { fabioApi } from '../fabio/routes.js';
import { DefaultFabioProxy, deployRelease } from '../promote/evidence.js';
import { parseImageFlags } from '../promote/image.js';
import { secretsGate } from '../vault/preflight.js';
import { printingLogger, setExit } from './common.js';

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
}

/** True when deploy should take the release path (`--image` or `--build`/HASHISHIP_BUILD). */
export function isReleaseDeploy(o: ReleaseFlags): boolean {
  return (o.image ?? []).length > 0 || (o.build !== undefined && o.build !== '');
}

/** Run the release path of `deploy` and set the exit code. */
export async function deployReleaseAction(names: readonly string[], o: ReleaseFlags, cmd: Command): Promise<void> {
  const redactor = redactorFromEnv(process.env);
  try {
    const overrides = parseImageFlags(o.image ?? []);
    const config = resolveConfig({ env: process.env });
    const log = printingLogger({ ndjson: o.events === 'ndjson' });
    const r = await deployRelease(config, {
      environment: o.env,
      names,
      dirs: { ...(o.services === undefined ? {} : { services: o.services }), ...(o.environments === undefined ? {} : { environments: o.environments }) },
      overrides,
      ...(o.build === undefined || o.build === '' ? {} : { build: o.build }),
      ...(o.commit === undefined || o.commit === '' ? {} : { commit: o.commit }),
      fabio: fabioApi(process.env['HASHISHIP_FABIO_ADDR'] ?? 'http://127.0.0.1:9998'),
      proxy: process.env['HASHISHIP_FABIO_PROXY'] ?? DefaultFabioProxy,
      access: { config, env: process.env },
      log,
      // The same secrets pre-flight as a plain deploy, before anything is registered.
      ...(o.skipSecretsCheck === true ? {} : { deploy: { secrets: secretsGate(config, { log }) } }),
    });
    if (o.json === true) {
      const doc = { ...resultDocument('deploy', r.deploy), exitCode: r.exitCode, records: r.records, evidenceFailures: r.failures.map((f) => ({ service: f.service, error: f.error.message })) };
      process.stdout.write(`${redactor.text(JSON.stringify(doc, null, 2))}\n`);
    } else {
      for (const s of r.deploy.results) if (s.error !== undefined) process.stderr.write(`Error: ${redactor.text(s.error.describe())}\n`);
      for (const f of r.failures) process.stderr.write(`Error: ${redactor.text(f.error.describe())}\n`);
      const lines = r.records.map((x) => `${x.service}: release #${x.seq} in ${x.environment}: ${x.digest}${x.build === undefined ? '' : ` (build ${x.build})`}, smoke ${x.smoke.passed ? 'passed' : 'FAILED'}`);
      process.stdout.write(redactor.text(`${formatResults(r.deploy).replace(/exit \d+\n$/, '')}${lines.map((l) => `${l}\n`).join('')}exit ${r.exitCode}\n`));
    }
    setExit(cmd, r.exitCode);
  } catch (err) {
    const e = describeError(err, redactor);
    process.stderr.write(e.text);
    setExit(cmd, e.exitCode);
  }
}
