/**
 * Running docs/runbooks pages as tests: a page's ```bash blocks, each run after the
 * page's first block (variables and helpers) under `set -euo pipefail`, with a
 * `hashiship` on PATH that runs this checkout's CLI. Shared by
 * test/integration/runbook*.test.ts so that docs and tests cannot drift.
 */
import { expect } from 'chai';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { run, type RunResult } from '../../src/stack/proc.js';

const repo = resolve('.');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` every 250 ms until it returns something other than undefined. */
export async function eventually<T>(what: string, ms: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** The ```bash blocks of a runbook page, in order. */
export function blocks(page: string): string[] {
  const text = readFileSync(join(repo, 'docs', 'runbooks', page), 'utf8');
  return [...text.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** A `bin` folder under `dir` holding a `hashiship` that runs src/cli.ts through tsx; returns PATH with it first. */
export function hashishipPath(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'hashiship'), `#!/bin/sh\nexec ${join(repo, 'node_modules', '.bin', 'tsx')} ${join(repo, 'src', 'cli.ts')} "$@"\n`);
  chmodSync(join(bin, 'hashiship'), 0o755);
  return `${bin}:${process.env['PATH'] ?? ''}`;
}

/**
 * Run block `i` of `page` after its first block, in `cwd` with `env`; fails with the
 * output on a non-zero exit.
 */
export async function runBlock(page: string, i: number, env: NodeJS.ProcessEnv, cwd: string): Promise<RunResult> {
  const b = blocks(page);
  expect(b.length, `${page} blocks`).to.be.greaterThan(i);
  const script = `set -euo pipefail\n${b[0]!}\n${i === 0 ? '' : b[i]!}`;
  const r = await run('bash', ['-c', script], { env, cwd, timeoutMs: 170_000 });
  expect(r.code, `${page} block ${i}:\n${r.stdout}\n${r.stderr}`).to.equal(0);
  return r;
}

/** A raw_exec job of `count` sleepers spread over the clients. */
export function sleeperJob(name: string, count: number, seconds = 3600): string {
  return `job "${name}" {
  datacenters = ["dc1"]

  group "g" {
    count = ${count}

    spread {
      attribute = "\${node.unique.name}"
    }

    task "sleep" {
      driver = "raw_exec"

      config {
        command = "/bin/sleep"
        args    = ["${seconds}"]
      }

      resources {
        cpu    = 20
        memory = 16
      }
    }
  }
}
`;
}
