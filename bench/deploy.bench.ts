/**
 * Deploy benchmarks against the real stack, side by side with the Nomad CLI:
 *
 * - detection latency: the benchmark changes a running deployment's status
 *   itself (pause, resume) and times, from the moment it sends the request, how
 *   long each tool takes to report the new status — hashiship's
 *   `deploy.deployment` event vs the `Status = paused` block `nomad job run`
 *   prints while it monitors the same kind of deployment (an upper bound: it
 *   includes the request's own round trip). Nomad leaves a deployment's
 *   ModifyTime at 0 for scheduler-made status changes, so it cannot be the clock;
 * - wall time of the same job change: `hashiship deploy` (the compiled CLI, a
 *   new process each time) vs `nomad job run`, alternating rounds;
 * - ten services deployed together (`--parallel 10`) vs one alone, with Consul
 *   checks and hashiship's default min_healthy_time (10 s), alternating rounds.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClients } from '../src/clients.js';
import { deployEnvironment } from '../src/deploy/deploy.js';
import { createDeployContext, type DeployContext } from '../src/deploy/runtime.js';
import { silent, type Event } from '../src/log.js';
import type { JobSpecLike } from '../src/nomad/jobs.js';
import { benchStack, median, short, size, type Benchmark, type Figure } from './harness.js';

const ENV = 'bench';
const ROUNDS = size(9, 1);
const FLIPS = size(5, 1);
const LATENCY_JOB = { minHealthyS: size(20, 5), checks: false } as const;
/** Ten vs one: Consul checks and the min_healthy_time hashiship renders by default (10 s; short mode 2 s). */
const FLEET_JOB = { minHealthyS: size(10, 2), checks: true } as const;
const FLEET_ROUNDS = size(3, 1);

/**
 * A minimal HTTP responder: python without site imports starts in a fraction of
 * http.server's time, so ten services starting at once measure the deploy
 * rather than ten interpreters competing for two CPUs.
 */
const RESPONDER = [
  'import socket,sys',
  's=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(("127.0.0.1",int(sys.argv[1])));s.listen(64)',
  'while True:',
  ' c,_=s.accept()',
  ' try:',
  '  c.recv(4096);c.sendall(b"HTTP/1.0 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok")',
  ' finally:',
  '  c.close()',
].join('\n');

/**
 * The benchmark service: the responder, stamped as hashiship's, with a Consul
 * HTTP check (`checks`) or health from task states. The latency runs use task
 * states and a long min_healthy_time to keep a deployment running a while:
 * Nomad 1.11.3 re-registers Consul services every 30 s against Consul 1.22.5,
 * which resets checks to critical for a moment.
 */
function job(id: string, version: string, o: { readonly minHealthyS: number; readonly checks: boolean } = { minHealthyS: 1, checks: true }): JobSpecLike {
  const { minHealthyS, checks } = o;
  return {
    ID: id,
    Name: id,
    Type: 'service',
    Datacenters: ['*'],
    Meta: { hashiship_tool: 'hashiship', hashiship_environment: ENV },
    TaskGroups: [
      {
        Name: 'web',
        Count: 1,
        Networks: [{ DynamicPorts: [{ Label: 'http' }] }],
        Update: {
          MaxParallel: 1,
          HealthCheck: checks ? 'checks' : 'task_states',
          MinHealthyTime: minHealthyS * 1e9,
          HealthyDeadline: (minHealthyS + 30) * 1e9,
          ProgressDeadline: (minHealthyS + 90) * 1e9,
          AutoRevert: true,
        },
        Services: checks
          ? [{ Name: id, PortLabel: 'http', Provider: 'consul', Checks: [{ Name: `${id}-alive`, Type: 'http', Path: '/', Interval: 1e9, Timeout: 1e9 }] }]
          : [],
        Tasks: [
          {
            Name: 'web',
            Driver: 'raw_exec',
            Config: { command: '/usr/bin/python3', args: ['-S', '-c', RESPONDER, '${NOMAD_PORT_http}'] },
            Env: { APP_VERSION: version },
            KillTimeout: 1e9,
            Resources: { CPU: 20, MemoryMB: 48 },
          },
        ],
      },
    ],
  } as unknown as JobSpecLike;
}

/** A child process whose stdout lines can be awaited. */
class Lines {
  readonly lines: { at: number; text: string }[] = [];
  readonly done: Promise<{ code: number; ms: number }>;
  readonly #waiters: { re: RegExp; from: number; resolve: (at: number) => void }[] = [];
  readonly proc: ChildProcess;

  constructor(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv) {
    const start = Date.now();
    this.proc = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    let err = '';
    this.proc.stdout!.on('data', (d: Buffer) => {
      const at = Date.now();
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      for (const text of parts) this.#line(at, text);
    });
    this.proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    this.done = new Promise((resolve, reject) => {
      this.proc.on('error', reject);
      this.proc.on('close', (code) => {
        if (buf !== '') this.#line(Date.now(), buf);
        if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.slice(-400)}`));
        else resolve({ code: code ?? 0, ms: Date.now() - start });
      });
    });
  }

  #line(at: number, text: string): void {
    this.lines.push({ at, text });
    for (const w of [...this.#waiters]) {
      if (at >= w.from && w.re.test(text)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(at);
      }
    }
  }

  /** When a line matching `re` arrives at or after `from`. */
  next(re: RegExp, from: number): Promise<number> {
    const seen = this.lines.find((l) => l.at >= from && re.test(l.text));
    if (seen !== undefined) return Promise.resolve(seen.at);
    return new Promise((resolve) => this.#waiters.push({ re, from, resolve }));
  }
}

/** Wait for the first event matching `pred` from now on. */
function eventWaiter(): { log: (e: Event) => void; next: (pred: (e: Event) => boolean) => Promise<{ at: number; e: Event }> } {
  const waiters: { pred: (e: Event) => boolean; resolve: (v: { at: number; e: Event }) => void }[] = [];
  return {
    log: (e) => {
      const at = Date.now();
      for (const w of [...waiters]) {
        if (w.pred(e)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve({ at, e });
        }
      }
    },
    next: (pred) => new Promise((resolve) => waiters.push({ pred, resolve })),
  };
}

/** Pause and resume a deployment `FLIPS` times; `seen(status, from)` resolves when the tool reports it. */
async function flips(ctx: DeployContext, deploymentId: string, seen: (status: 'paused' | 'running', from: number) => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < FLIPS; i++) {
    for (const pause of [true, false]) {
      const sent = Date.now();
      const reported = seen(pause ? 'paused' : 'running', sent);
      await ctx.nomad.deployments.pause(deploymentId, pause);
      out.push((await reported) - sent);
    }
  }
  return out;
}

async function runningDeployment(ctx: DeployContext, id: string, version: number): Promise<string> {
  let index = 0;
  for (;;) {
    const r = await ctx.nomad.jobs.deployments(id, { index, waitMs: 10_000 });
    const d = r.data.find((x) => x.JobVersion === version && x.Status === 'running');
    if (d !== undefined) return d.ID;
    index = r.index;
  }
}

const bench: Benchmark = {
  name: 'deploy',
  async run(): Promise<readonly Figure[]> {
    const stack = await benchStack();
    const { env, config } = stack;
    const ctx = createDeployContext(config, silent, createClients(config));
    const nomad = (env['HASHISHIP_STACK_BIN'] ?? '')
      .split(':')
      .map((d) => join(d, 'nomad'))
      .find((p) => existsSync(p));
    if (nomad === undefined) throw new Error('no nomad binary in HASHISHIP_STACK_BIN');

    // The hashiship CLI, compiled once into a private directory (node resolves its packages from the repo).
    const root = join(dirname(fileURLToPath(import.meta.url)), '..');
    // Short mode (CI, after `npm ci` built dist/) uses the repository's dist/ rather than compile again.
    const built = join(root, 'dist');
    const dist = short && existsSync(join(built, 'cli.js')) ? built : join(root, 'node_modules', '.cache', 'hashiship-bench', 'dist');
    if (dist !== built) {
      // Type errors elsewhere in a work-in-progress tree do not stop tsc from emitting: check the output instead.
      spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', dist], {
        stdio: 'ignore',
      });
      if (!existsSync(join(dist, 'cli.js'))) throw new Error(`could not compile the CLI into ${dist}`);
      copyFileSync(join(root, 'package.json'), join(dist, '..', 'package.json')); // version.ts reads ../package.json
    }
    const procEnv = { ...process.env, ...env };

    const tag = randomBytes(3).toString('hex');
    const dir = mkdtempSync(join(tmpdir(), 'hashiship-bench-'));
    const id = `bench-deploy-${tag}`;
    const ids = Array.from({ length: 10 }, (_, i) => `bench-ten-${tag}-${i}`);
    const file = join(dir, 'job.json');
    const write = (v: string, o?: { minHealthyS: number; checks: boolean }) => writeFileSync(file, JSON.stringify({ Job: job(id, v, o) }));
    const hashiship = () => new Lines(process.execPath, [join(dist, 'cli.js'), 'deploy', '--env', ENV, '--job', file], procEnv);
    try {
      write('0');
      await hashiship().done;

      // Wall time: the same kind of change, alternating tools.
      const ours: number[] = [];
      const theirs: number[] = [];
      for (let i = 1; i <= ROUNDS; i++) {
        write(`h${i}`);
        ours.push((await hashiship().done).ms);
        write(`n${i}`);
        theirs.push((await new Lines(nomad, ['job', 'run', '-json', file], procEnv).done).ms);
      }

      // Detection latency. hashiship: in-process, events timed on arrival.
      const w = eventWaiter();
      const lctx: DeployContext = { ...ctx, runtime: { ...ctx.runtime, log: w.log } };
      let version = (await ctx.nomad.jobs.get(id))!.Version + 1;
      const deploying = deployEnvironment(lctx, { environment: ENV, inputs: [{ job: job(id, 'lat-h', LATENCY_JOB), source: 'bench' }], complete: false });
      let dep = await runningDeployment(ctx, id, version);
      const ourLatency = await flips(ctx, dep, async (status) => {
        const { at } = await w.next((e) => e.kind === 'deploy.deployment' && e.deploymentId === dep && e.status === status);
        return at;
      });
      const r = await deploying;
      if (r.exitCode !== 0) throw new Error(`latency deploy: exit ${r.exitCode}`);
      // nomad job run: its monitor prints a status block per change.
      write('lat-n', LATENCY_JOB);
      version += 1;
      const cli = new Lines(nomad, ['job', 'run', '-json', file], procEnv);
      dep = await runningDeployment(ctx, id, version);
      await cli.next(/Status\s+=\s+running/, 0);
      const peerLatency = await flips(ctx, dep, (status, from) => cli.next(new RegExp(`Status\\s+=\\s+${status}`), from));
      await cli.done;

      // Ten services together vs one alone: alternating, the median of each.
      const tenInputs = (v: string) => ids.map((x) => ({ job: job(x, v, FLEET_JOB), source: 'bench' }));
      await deployEnvironment(ctx, { environment: ENV, inputs: tenInputs('0'), complete: false }, { parallel: 10 });
      const ones: number[] = [];
      const tens: number[] = [];
      for (let i = 1; i <= FLEET_ROUNDS; i++) {
        let t = Date.now();
        const one = await deployEnvironment(ctx, { environment: ENV, inputs: tenInputs(`one${i}`).slice(0, 1), complete: false });
        ones.push(Date.now() - t);
        t = Date.now();
        const ten = await deployEnvironment(ctx, { environment: ENV, inputs: tenInputs(`ten${i}`), complete: false }, { parallel: 10 });
        tens.push(Date.now() - t);
        if (one.exitCode !== 0 || ten.exitCode !== 0) throw new Error(`ten services: exit ${ten.exitCode}, one: exit ${one.exitCode}`);
      }

      return [
        {
          label: `detection latency, status change sent → reported (median of ${ourLatency.length})`,
          value: median(ourLatency),
          unit: 'ms',
          peer: { name: 'nomad job run', value: median(peerLatency) },
          target: '< 100 ms',
        },
        {
          label: `deploy wall time of the same change (median of ${ROUNDS}, one CLI process each)`,
          value: median(ours) / 1000,
          unit: 's',
          peer: { name: 'nomad job run', value: median(theirs) / 1000 },
          target: 'ratio <= 0.9',
        },
        {
          label: `ten services deployed together (--parallel 10) vs one alone (median of ${FLEET_ROUNDS}, min_healthy_time ${FLEET_JOB.minHealthyS} s)`,
          value: median(tens) / 1000,
          unit: 's',
          peer: { name: 'one service', value: median(ones) / 1000 },
          target: 'ratio <= 1.5',
        },
      ];
    } finally {
      for (const x of [id, ...ids]) await ctx.nomad.jobs.deregister(x, { purge: true }).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
export default bench;
