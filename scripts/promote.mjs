#!/usr/bin/env zx
/**
 * The Travis CI entry point, `zx scripts/promote.mjs`: deploy this build to QA (which
 * records the QA evidence), then promote it to production from the release branch.
 * What may happen is decided by hashiship's `ci` module; this file only runs the
 * steps, each in a travis_fold with a heartbeat, and exits with hashiship's code.
 * In a service repository it is the same file, with hashiship as a dependency.
 *
 * Reads TRAVIS_BUILD_NUMBER, TRAVIS_BRANCH, TRAVIS_PULL_REQUEST, TRAVIS_COMMIT,
 * HASHISHIP_SERVICES (comma-separated) and optionally HASHISHIP_RELEASE_BRANCH
 * (default main), HASHISHIP_FROM / HASHISHIP_TO (qa / production),
 * HASHISHIP_HEARTBEAT_SECONDS (60, at most 540).
 */
import { fileURLToPath } from 'node:url';
import { $ } from 'zx';
import { ci, HashishipError, redactorFromEnv } from 'hashiship';

const cli = fileURLToPath(import.meta.resolve('hashiship/cli'));
// The script's own lines go through hashiship's redaction, as the CLI's do: a token in a
// variable (VAULT_TOKEN, NOMAD_TOKEN, …) or token-shaped text never reaches the build log.
const redactor = redactorFromEnv(process.env);
const out = (/** @type {string} */ s) => process.stdout.write(redactor.known(s));

let build, options, plan;
try {
  build = ci.readTravis(process.env);
  options = ci.readCiOptions(process.env);
  plan = ci.ciPlan(build, options);
} catch (/** @type {any} */ err) {
  process.stderr.write(redactor.text(`Error: ${err instanceof HashishipError ? err.describe() : err.message}\n`));
  process.exit(err instanceof HashishipError ? err.exitCode : 1);
}
const heartbeatMs = 1000 * options.heartbeatSeconds;

out(`hashiship: build ${build.number} of ${build.branch} at ${build.commit.slice(0, 12)}\n`);
for (const step of plan.steps) {
  out(ci.foldStart(step.fold));
  out(`$ hashiship ${step.args.join(' ')}\n`);
  const stop = ci.startHeartbeat(step.title, out, heartbeatMs);
  const run = await $({ stdio: 'inherit', nothrow: true })`node ${cli} ${step.args}`;
  stop();
  if (run.exitCode !== 0) {
    // The fold stays open so that Travis shows the failing step expanded.
    out(`hashiship: ${step.title} failed with exit code ${run.exitCode}\n`);
    process.exit(run.exitCode ?? 1);
  }
  out(ci.foldEnd(step.fold));
}
out(`hashiship: ${plan.notPromoted === undefined ? 'promoted' : `not promoted: ${plan.notPromoted}`}\n`);
