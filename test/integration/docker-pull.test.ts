/**
 * Pull failures of the docker driver, through `hashiship deploy` of a rendered spec
 * on the dev stack: an unknown digest in a registry that is up, and a registry that
 * does not answer. The deploy fails quickly (not at the progress deadline) and the
 * diagnosis names the image, the registry and its answer.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli.js';
import { ExitCode } from '../../src/errors.js';
import type { NomadClient } from '../../src/nomad/client.js';
import { buildAndPushHello } from '../helpers/images.js';
import { freePort } from '../helpers/registry.js';
import { useStack, type TestStack } from '../helpers/stack.js';

const run = randomBytes(3).toString('hex');
const ENV = `pull-${run}`;
const repo = `hashiship-test/pull-${run}`;
const unknownDigest = `sha256:${'0'.repeat(63)}1`;

/** A docker service whose image is pinned by digest; one failure ends it (no restarts). */
function serviceYaml(name: string, repository: string, digest: string): string {
  return `name: ${name}
groups:
  - name: web
    count: 1
    ports:
      http: {}
    update:
      max_parallel: 1
      min_healthy_time: 1s
      healthy_deadline: 60s
      progress_deadline: 120s
      auto_revert: false
    restart:
      attempts: 0
      interval: 1m
      delay: 1s
      mode: fail
    reschedule:
      attempts: 0
      unlimited: false
    tasks:
      - name: web
        driver: docker
        image:
          repository: ${repository}
          digest: ${digest}
        resources:
          cpu: 50
          memory: 32
`;
}

function environmentYaml(registry: string): string {
  return `name: ${ENV}
datacenters: ["*"]
registry: ${registry}
`;
}

describe('docker pull failures through hashiship deploy', function () {
  let stack: TestStack;
  let nomad: NomadClient;
  const dir = mkdtempSync(join(tmpdir(), 'hashiship-pull-'));
  const jobs: string[] = [];
  const saved: Record<string, string | undefined> = {};

  before(async function () {
    this.timeout(90 * 60_000);
    stack = await useStack();
    nomad = stack.clients.nomad.client;
    for (const [k, v] of Object.entries(stack.env)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    // The repository exists in the QA registry: only the digest is unknown.
    await buildAndPushHello(stack.env['DOCKER_HOST']!, '127.0.0.1:5001', repo, '1');
  });

  after(async function () {
    this.timeout(60_000);
    for (const id of jobs) {
      await nomad.request('jobs.deregister', { method: 'DELETE', path: `/v1/job/${id}`, params: { purge: true } }).catch(() => undefined);
    }
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** Run the CLI in-process, capturing what it prints. */
  async function cli(...args: string[]): Promise<{ code: number; out: string; err: string; seconds: number }> {
    let out = '';
    let err = '';
    const w1 = process.stdout.write.bind(process.stdout);
    const w2 = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((c: string | Uint8Array) => ((out += String(c)), true)) as typeof process.stdout.write;
    process.stderr.write = ((c: string | Uint8Array) => ((err += String(c)), true)) as typeof process.stderr.write;
    const t0 = Date.now();
    try {
      return { code: await main(args), out, err, seconds: (Date.now() - t0) / 1000 };
    } finally {
      process.stdout.write = w1;
      process.stderr.write = w2;
    }
  }

  /** Write the spec and environment, deploy it, and return what the CLI said. */
  async function deploy(name: string, registry: string, digest: string) {
    const root = join(dir, name);
    mkdirSync(join(root, 'services'), { recursive: true });
    mkdirSync(join(root, 'environments'), { recursive: true });
    writeFileSync(join(root, 'services', `${name}.yaml`), serviceYaml(name, repo, digest));
    writeFileSync(join(root, 'environments', `${ENV}.yaml`), environmentYaml(registry));
    jobs.push(name);
    return cli('deploy', '--env', ENV, name, '--services', join(root, 'services'), '--environments', join(root, 'environments'));
  }

  it('an unknown digest: the deploy fails fast, naming the image, the registry and its answer', async function () {
    this.timeout(180_000);
    const name = `pull-unknown-${run}`;
    const r = await deploy(name, '127.0.0.1:5001', unknownDigest);
    console.log(`      failed in ${r.seconds.toFixed(1)} s (progress deadline 120 s)`);
    const text = `${r.out}\n${r.err}`;
    expect(r.code, text).to.equal(ExitCode.failed);
    expect(r.seconds).to.be.lessThan(60);
    expect(text).to.include(`image pull failed: 127.0.0.1:5001/${repo}@${unknownDigest}: registry 127.0.0.1:5001 answered:`);
    expect(text).to.match(/manifest unknown|not found/);
  });

  it('a registry that does not answer: the deploy fails fast, naming the registry as unreachable', async function () {
    this.timeout(180_000);
    const name = `pull-down-${run}`;
    const port = await freePort(); // nothing listens there
    const r = await deploy(name, `127.0.0.1:${port}`, unknownDigest);
    console.log(`      failed in ${r.seconds.toFixed(1)} s (progress deadline 120 s)`);
    const text = `${r.out}\n${r.err}`;
    expect(r.code, text).to.equal(ExitCode.failed);
    expect(r.seconds).to.be.lessThan(60);
    expect(text).to.include(`image pull failed: 127.0.0.1:${port}/${repo}@${unknownDigest}: registry 127.0.0.1:${port} could not be reached:`);
    expect(text).to.include('connection refused');
  });
});
