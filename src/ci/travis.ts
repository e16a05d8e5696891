/**
 * The logic behind `zx scripts/promote.mjs`, the Travis CI entry point: read the
 * build from Travis' variables, decide what this build may do (deploy to QA always;
 * promote to production only from the release branch and never for a pull request),
 * and the `travis_fold` markers and heartbeat that keep the log readable and the job
 * alive. Pure functions; the script only runs the steps they return.
 */
import { InputError, type InputProblem } from '../errors.js';
import { JOB_ID } from '../service-spec/schema.js';

/** What Travis says about the build being run. */
export interface TravisBuild {
  /** `TRAVIS_BUILD_NUMBER`: also the image tag the build pushed to the QA registry. */
  readonly number: string;
  readonly branch: string;
  /** The pull request number, or undefined for a push build. */
  readonly pullRequest?: string;
  readonly commit: string;
}

/** Where the build goes and what it ships, from `HASHISHIP_*` variables. */
export interface CiOptions {
  /** The services whose images this build pushed (`HASHISHIP_SERVICES`, comma-separated). */
  readonly services: readonly string[];
  /** Only builds of this branch reach production (`HASHISHIP_RELEASE_BRANCH`). @default main */
  readonly releaseBranch: string;
  /** @default qa */
  readonly from: string;
  /** @default production */
  readonly to: string;
  /** Seconds between "still running" lines while a step runs (`HASHISHIP_HEARTBEAT_SECONDS`). @default 60 */
  readonly heartbeatSeconds: number;
}

/**
 * The longest heartbeat: Travis ends a job after 10 minutes without output, and 9
 * minutes leaves a minute for a slow log. Below 1 s, or not a number at all, Node's
 * timer would fire every millisecond and flood the build log.
 */
const MAX_HEARTBEAT_SECONDS = 540;

/** One hashiship invocation of the build, shown in its own fold. */
export interface CiStep {
  /** The fold's name: letters, digits, `.`, `_` and `-` only (Travis' rule). */
  readonly fold: string;
  readonly title: string;
  /** The hashiship command line, without the program. */
  readonly args: readonly string[];
}

export interface CiPlan {
  readonly steps: readonly CiStep[];
  /** Why production is not part of this build, when it is not. */
  readonly notPromoted?: string;
}

function required(env: NodeJS.ProcessEnv, name: string, problems: InputProblem[], expect?: [RegExp, string]): string {
  const value = env[name];
  if (value === undefined || value === '') {
    problems.push({ subject: name, message: 'must be set (this script runs on Travis CI)' });
    return '';
  }
  if (expect !== undefined && !expect[0].test(value)) {
    problems.push({ subject: `${name}="${value}"`, message: `expected ${expect[1]}` });
  }
  return value;
}

/** Read the build from Travis' variables; every problem is named, exit 1. */
export function readTravis(env: NodeJS.ProcessEnv): TravisBuild {
  const problems: InputProblem[] = [];
  const number = required(env, 'TRAVIS_BUILD_NUMBER', problems, [/^[1-9][0-9]*$/, 'a positive build number']);
  const branch = required(env, 'TRAVIS_BRANCH', problems);
  const commit = required(env, 'TRAVIS_COMMIT', problems, [/^[0-9a-f]{7,40}$/, 'a commit hash (hex)']);
  const pr = required(env, 'TRAVIS_PULL_REQUEST', problems, [/^(false|[1-9][0-9]*)$/, '"false" or a pull request number']);
  if (problems.length > 0) throw new InputError(problems);
  return { number, branch, commit, ...(pr === 'false' ? {} : { pullRequest: pr }) };
}

/** Read the `HASHISHIP_*` settings of the entry point. */
export function readCiOptions(env: NodeJS.ProcessEnv): CiOptions {
  const problems: InputProblem[] = [];
  const services = required(env, 'HASHISHIP_SERVICES', problems)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const s of services) {
    // A service spec's name, the job ID: `web`, and also `billing.api` and `node_exporter` as the spec takes them.
    if (!JOB_ID.test(s)) {
      problems.push({
        subject: `HASHISHIP_SERVICES="${env['HASHISHIP_SERVICES']}"`,
        message: `\`${s}\` is not a service name (lower-case letters, digits and dashes; dots and underscores between them, as in billing.api or node_exporter)`,
      });
    }
  }
  const heartbeat = env['HASHISHIP_HEARTBEAT_SECONDS'];
  const heartbeatSeconds = heartbeat === undefined || heartbeat === '' ? 60 : /^[0-9]+$/.test(heartbeat) ? Number(heartbeat) : Number.NaN;
  if (!(heartbeatSeconds >= 1 && heartbeatSeconds <= MAX_HEARTBEAT_SECONDS)) {
    problems.push({
      subject: `HASHISHIP_HEARTBEAT_SECONDS="${heartbeat}"`,
      message: `expected a whole number of seconds from 1 to ${MAX_HEARTBEAT_SECONDS} (Travis ends a job after 10 silent minutes)`,
    });
  }
  if (problems.length > 0) throw new InputError(problems);
  return {
    services,
    releaseBranch: env['HASHISHIP_RELEASE_BRANCH'] || 'main',
    from: env['HASHISHIP_FROM'] || 'qa',
    to: env['HASHISHIP_TO'] || 'production',
    heartbeatSeconds,
  };
}

/**
 * What this build does: deploy every service's build-number image to the source
 * environment (which writes the QA evidence), then — from the release branch and not
 * for a pull request — promote exactly those digests to the target environment.
 */
export function ciPlan(build: TravisBuild, o: CiOptions): CiPlan {
  const images = o.services.flatMap((s) => ['--image', `${s}=${build.number}`]);
  const deploy: CiStep = {
    fold: `hashiship.deploy.${o.from}`,
    title: `deploy build ${build.number} to ${o.from}`,
    args: ['deploy', '--env', o.from, ...o.services, ...images, '--build', build.number],
  };
  const notPromoted =
    build.pullRequest !== undefined
      ? `pull request #${build.pullRequest} builds never reach ${o.to}`
      : build.branch !== o.releaseBranch
        ? `branch ${build.branch} is not the release branch ${o.releaseBranch}`
        : undefined;
  if (notPromoted !== undefined) return { steps: [deploy], notPromoted };
  const promote: CiStep = {
    fold: `hashiship.promote.${o.to}`,
    title: `promote build ${build.number} from ${o.from} to ${o.to}`,
    args: ['promote', '--from', o.from, '--to', o.to, ...o.services, '--build', build.number],
  };
  return { steps: [deploy, promote] };
}

/** Travis' fold markers; `\r` + erase-line hide them in the web log. */
export function foldStart(name: string): string {
  return `travis_fold:start:${name}\r\u001b[0K`;
}

export function foldEnd(name: string): string {
  return `travis_fold:end:${name}\r\u001b[0K`;
}

/**
 * Print `still running: <what> (<n> s)` every `everyMs` until stopped, so that
 * Travis (which kills a job after 10 minutes without output) sees a long health
 * wait as alive. Returns the stop function.
 */
export function startHeartbeat(what: string, write: (line: string) => void, everyMs = 60_000, now: () => number = Date.now): () => void {
  const started = now();
  const timer = setInterval(() => write(`still running: ${what} (${Math.round((now() - started) / 1000)} s)\n`), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
