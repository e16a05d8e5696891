/**
 * A real container end to end on the dev stack: an image built here (a static Go
 * binary in a FROM-scratch image), `docker build` + `docker push` to the QA registry
 * with the stack's own engine, then a Nomad job on the docker driver pulling it by
 * digest runs, passes its Consul check and is routed by Fabio — and the container
 * Nomad started runs exactly that digest, read back from the engine.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { NomadClient } from '../../src/nomad/client.js';
import { stackAddresses } from '../../src/stack/components.js';
import { NomadAllocLabel } from '../../src/stack/docker.js';
import { status } from '../../src/stack/stack.js';
import { buildAndPushHello, docker, type BuiltImage } from '../helpers/images.js';
import { viaFabio } from '../helpers/sample.js';
import { useStack, type TestStack } from '../helpers/stack.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually<T>(what: string, ms: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
    await sleep(200);
  }
}

interface AllocStub {
  readonly ID: string;
  readonly ClientStatus: string;
  readonly JobVersion: number;
  readonly TaskStates?: Record<string, { Events?: { Type: string; DisplayMessage?: string }[] }>;
}

/** A service job on the docker driver, host networking on the node's loopback port. */
function helloJob(jobId: string, image: string, version: string): string {
  return `
job "${jobId}" {
  datacenters = ["*"]

  meta {
    version = "${version}"
  }

  group "web" {
    network {
      port "http" {}
    }

    service {
      name     = "${jobId}"
      port     = "http"
      provider = "consul"
      tags     = ["urlprefix-${jobId}.local/"]

      check {
        type     = "http"
        path     = "/health"
        interval = "1s"
        timeout  = "1s"
      }
    }

    restart {
      attempts = 0
      mode     = "fail"
    }

    task "web" {
      driver = "docker"

      config {
        image        = "${image}"
        network_mode = "host"
      }

      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
`;
}

describe('containers on the dev stack: build, push, pull by digest, run, route', function () {
  let stack: TestStack;
  let nomad: NomadClient;
  let host: string;
  let image: BuiltImage;
  const suffix = randomBytes(4).toString('hex');
  const repo = `hashiship-test/hello-${suffix}`;
  const jobId = `hello-${suffix}`;

  before(async function () {
    this.timeout(90 * 60_000); // a cold machine builds the servers first
    stack = await useStack();
    nomad = stack.clients.nomad.client;
    host = stack.env['DOCKER_HOST']!;
  });

  after(async function () {
    this.timeout(60_000);
    if (nomad !== undefined) {
      await nomad.request('jobs.deregister', { method: 'DELETE', path: `/v1/job/${jobId}`, params: { purge: true } }).catch(() => undefined);
    }
  });

  async function register(ref: string, version: string): Promise<number> {
    const parsed = await nomad.request<Record<string, unknown>>('jobs.parse', {
      method: 'POST',
      path: '/v1/jobs/parse',
      data: { JobHCL: helloJob(jobId, ref, version), Canonicalize: true },
    });
    const t0 = Date.now();
    await nomad.request('jobs.register', { method: 'POST', path: '/v1/jobs', data: { Job: parsed.data } });
    return t0;
  }

  /** Wait for a running allocation of the job at `version`; seconds since `t0`. */
  async function running(jobVersion: number, t0: number): Promise<{ alloc: AllocStub; seconds: number }> {
    const alloc = await eventually('a running allocation', 90_000, async () => {
      const allocs = (await nomad.request<AllocStub[]>('job.allocations', { path: `/v1/job/${jobId}/allocations` })).data;
      const failed = allocs.find((a) => a.ClientStatus === 'failed' && a.JobVersion === jobVersion);
      if (failed !== undefined) throw new Error(`allocation failed: ${JSON.stringify(failed.TaskStates)}`);
      return allocs.find((a) => a.ClientStatus === 'running' && a.JobVersion === jobVersion);
    });
    return { alloc, seconds: (Date.now() - t0) / 1000 };
  }

  it("the stack's engine is up and Nomad's docker driver is healthy on it", async () => {
    const row = (await status(stack.options)).find((r) => r.component === 'docker');
    expect(row?.healthy).to.equal(true);
    expect(host).to.equal(row!.address);
    const nodes = (await nomad.request<{ Drivers: Record<string, { Detected: boolean; Healthy: boolean }> }[]>('nodes.list', { path: '/v1/nodes' })).data;
    expect(nodes[0]!.Drivers['docker']).to.include({ Detected: true, Healthy: true });
    // Nomad's plugin talks to this engine, not the system's socket.
    const self = await nomad.agentSelf();
    expect(JSON.stringify(self)).to.include(host);
  });

  it('docker build + docker push a FROM-scratch image of a static Go binary built here', async function () {
    this.timeout(300_000);
    image = await buildAndPushHello(host, '127.0.0.1:5001', repo, '1', `v1-${suffix}`);
    console.log(`      built in ${image.buildSeconds.toFixed(2)} s, pushed in ${image.pushSeconds.toFixed(2)} s: ${image.ref}`);
    expect(image.digest).to.match(/^sha256:[0-9a-f]{64}$/);
    // The registry serves that manifest under that digest.
    const res = await fetch(`${stackAddresses.registryQa}/v2/${repo}/manifests/${image.digest}`, {
      method: 'HEAD',
      headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    expect(res.status).to.equal(200);
    expect(res.headers.get('docker-content-digest')).to.equal(image.digest);
  });

  it('a docker-driver job pulling it by digest runs, passes its Consul check and is routed by Fabio', async function () {
    this.timeout(180_000);
    // Cold: the engine must pull from the registry, not use what `docker build` left.
    await docker(host, ['image', 'rm', '--force', image.tag]);
    expect((await docker(host, ['images', '--quiet', '--digests', image.ref]).catch(() => '')).trim()).to.equal('');
    const t0 = await register(image.ref, `v1-${suffix}`);
    const { alloc, seconds } = await running(0, t0);
    console.log(`      cold pull + start by digest: ${seconds.toFixed(2)} s to a running allocation`);
    const events = alloc.TaskStates?.['web']?.Events?.map((e) => e.Type) ?? [];
    expect(events).to.include('Started');

    const checks = await eventually('a passing Consul check', 45_000, async () => {
      const r = (await (await fetch(`${stackAddresses.consul}/v1/health/checks/${jobId}`)).json()) as { Status: string }[];
      return r.length > 0 && r.every((c) => c.Status === 'passing') ? r : undefined;
    });
    expect(checks).to.have.length(1);

    const body = await eventually('the page through Fabio', 45_000, async () => {
      const res = await viaFabio(`${jobId}.local`, '/');
      return res.status === 200 ? res.body : undefined;
    });
    expect(body).to.match(new RegExp(`^hello v1-${suffix} `));

    // What runs, read back from the engine: the container Nomad started for this
    // allocation was created from exactly the digest the job names.
    const ids = (await docker(host, ['ps', '--quiet', '--no-trunc', '--filter', `label=${NomadAllocLabel}=${alloc.ID}`])).trim().split('\n');
    expect(ids).to.have.length(1);
    const [container] = JSON.parse(await docker(host, ['container', 'inspect', ids[0]!])) as {
      Image: string;
      Config: { Image: string };
      HostConfig: { NetworkMode: string };
    }[];
    expect(container!.Config.Image).to.equal(image.ref);
    expect(container!.HostConfig.NetworkMode).to.equal('host');
    const [img] = JSON.parse(await docker(host, ['image', 'inspect', container!.Image])) as { RepoDigests: string[] }[];
    expect(img!.RepoDigests).to.include(image.ref);
  });

  it('a new version by digest replaces it; the image already in the engine starts warm', async function () {
    this.timeout(180_000);
    const v2 = await buildAndPushHello(host, '127.0.0.1:5001', repo, '2', `v2-${suffix}`);
    expect(v2.digest).not.to.equal(image.digest);
    const t0 = await register(v2.ref, `v2-${suffix}`);
    const { alloc, seconds } = await running(1, t0);
    console.log(`      warm start by digest (image in the engine): ${seconds.toFixed(2)} s to a running allocation`);
    const body = await eventually('v2 through Fabio', 45_000, async () => {
      const res = await viaFabio(`${jobId}.local`, '/');
      const text = res.status === 200 ? res.body : '';
      return text.startsWith(`hello v2-${suffix} `) ? text : undefined;
    });
    expect(body).to.match(/^hello v2-/);
    const ids = (await docker(host, ['ps', '--quiet', '--no-trunc', '--filter', `label=${NomadAllocLabel}=${alloc.ID}`])).trim().split('\n');
    const [container] = JSON.parse(await docker(host, ['container', 'inspect', ids[0]!])) as { Config: { Image: string } }[];
    expect(container!.Config.Image).to.equal(v2.ref);
  });
});
