/**
 * The real local stack: Consul, Vault, Nomad (raw_exec, Vault workload identity),
 * Fabio and the QA registry answer as the issue requires.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { consulCall } from '../../src/consul/client.js';
import type { NomadClient } from '../../src/nomad/client.js';
import { stackAddresses } from '../../src/stack/components.js';
import { envScript, stateDirOf, status, up } from '../../src/stack/stack.js';
import { vaultCall } from '../../src/vault/client.js';
import { useStack, type TestStack } from '../helpers/stack.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` until it returns a value other than undefined, or fail after `ms`. */
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
    await sleep(250);
  }
}

describe('the local stack (real servers)', function () {
  let stack: TestStack;

  before(async function () {
    this.timeout(90 * 60_000); // a cold machine builds Consul, Nomad, Vault and Fabio first
    stack = await useStack();
  });

  it('reports every component healthy with its version', async () => {
    const rows = await status(stack.options);
    expect(rows.map((r) => r.component).sort()).to.deep.equal(['consul', 'docker', 'fabio', 'nomad', 'registry-production', 'registry-qa', 'vault']);
    for (const r of rows) {
      expect(r.healthy, r.component).to.equal(true);
      expect(r.version, r.component).to.be.a('string');
      // The Docker engine answers on a unix socket in the state folder, the rest on loopback.
      if (r.component === 'docker') expect(r.address, r.component).to.match(/^unix:\/\/\/.+\/docker\/docker\.sock$/);
      else expect(new URL(r.address).hostname, r.component).to.equal('127.0.0.1');
    }
    const byName = Object.fromEntries(rows.map((r) => [r.component, r.version]));
    expect(byName['consul']).to.match(/^1\.22\./);
    expect(byName['nomad']).to.match(/^1\.11\./);
    expect(byName['vault']).to.match(/^1\.21\./);
    expect(byName['fabio']).to.match(/^1\.7\./);
    expect(byName['docker']).to.match(/^20\.10\./);
  });

  it('Consul: registers a service whose HTTP check passes, then deregisters it', async function () {
    this.timeout(60_000);
    const server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const consul = stack.clients.consul.client.api;
    const id = `hashiship-test-${randomBytes(4).toString('hex')}`;
    try {
      await consulCall(stack.config.consul, 'agent.service.register', () =>
        consul.agent.service.register({
          id,
          name: id,
          address: '127.0.0.1',
          port,
          tags: ['test'],
          check: { name: 'http', http: `http://127.0.0.1:${port}/`, interval: '1s', timeout: '1s' },
        }),
      );
      const passing = await eventually('a passing instance', 30_000, async () => {
        const rows = (await consul.health.service({ service: id, passing: true })) as { Service: { ID: string; Port: number } }[];
        return rows.length > 0 ? rows : undefined;
      });
      expect(passing[0]!.Service.Port).to.equal(port);
    } finally {
      await consul.agent.service.deregister(id);
      server.close();
    }
    const after = (await consul.catalog.service.nodes(id)) as unknown[];
    expect(after).to.have.length(0);
  });

  it('Vault: writes and reads a KV v2 secret', async () => {
    const vault = stack.clients.vault.client.api;
    const value = randomBytes(8).toString('hex');
    await vaultCall(stack.config.vault, 'kv.write', 'secret/data/hashiship-test/kv', () => vault.write('secret/data/hashiship-test/kv', { data: { value } }));
    const read = (await vaultCall(stack.config.vault, 'kv.read', 'secret/data/hashiship-test/kv', () => vault.read('secret/data/hashiship-test/kv'))) as {
      data: { data: { value: string }; metadata: { version: number } };
    };
    expect(read.data.data.value).to.equal(value);
    expect(read.data.metadata.version).to.be.greaterThan(0);
  });

  describe('Nomad → Consul → Fabio, with a secret through Vault workload identity', function () {
    const jobId = 'hashiship-smoke';
    const greeting = `hello-${randomBytes(6).toString('hex')}`;
    let nomad: NomadClient;

    before(async function () {
      this.timeout(30_000);
      nomad = stack.clients.nomad.client;
      const vault = stack.clients.vault.client.api;
      await vault.write(`secret/data/${jobId}/config`, { data: { greeting } });
    });

    after(async function () {
      this.timeout(30_000);
      await nomad.request('jobs.deregister', { method: 'DELETE', path: `/v1/job/${jobId}`, params: { purge: true } });
    });

    const hcl = `
job "${jobId}" {
  datacenters = ["*"]

  group "web" {
    network {
      port "http" {}
    }

    service {
      name     = "${jobId}"
      port     = "http"
      provider = "consul"
      tags     = ["urlprefix-/${jobId} strip=/${jobId}"]

      check {
        type     = "http"
        path     = "/"
        interval = "1s"
        timeout  = "1s"
      }
    }

    task "web" {
      driver = "raw_exec"

      vault {}

      template {
        data        = "{{ with secret \\"secret/data/${jobId}/config\\" }}{{ .Data.data.greeting }}{{ end }}"
        destination = "local/www/index.html"
      }

      config {
        command = "/usr/bin/python3"
        args    = ["-m", "http.server", "\${NOMAD_PORT_http}", "--bind", "127.0.0.1", "--directory", "local/www"]
      }

      resources {
        cpu    = 50
        memory = 64
      }
    }
  }
}
`;

    it('parses the HCL through /v1/jobs/parse and runs it until the allocation is running', async function () {
      this.timeout(120_000);
      const parsed = await nomad.request<Record<string, unknown>>('jobs.parse', {
        method: 'POST',
        path: '/v1/jobs/parse',
        data: { JobHCL: hcl, Canonicalize: true },
      });
      expect(parsed.data['ID']).to.equal(jobId);
      const reg = await nomad.request<{ EvalID: string }>('jobs.register', {
        method: 'POST',
        path: '/v1/jobs',
        data: { Job: parsed.data },
      });
      expect(reg.data.EvalID).to.be.a('string').and.not.equal('');
      await eventually('a running allocation', 90_000, async () => {
        const allocs = (
          await nomad.request<{ ClientStatus: string; TaskStates?: Record<string, { Events: { DisplayMessage: string }[] }> }[]>('job.allocations', {
            path: `/v1/job/${jobId}/allocations`,
          })
        ).data;
        const failed = allocs.find((a) => a.ClientStatus === 'failed');
        if (failed !== undefined) throw new Error(`allocation failed: ${JSON.stringify(failed.TaskStates)}`);
        return allocs.some((a) => a.ClientStatus === 'running') ? true : undefined;
      });
    });

    it('registers the service in Consul with a passing check', async function () {
      this.timeout(60_000);
      const consul = stack.clients.consul.client.api;
      const rows = await eventually('a passing instance', 45_000, async () => {
        const r = (await consul.health.service({ service: jobId, passing: true })) as { Service: { Tags: string[] } }[];
        return r.length > 0 ? r : undefined;
      });
      expect(rows[0]!.Service.Tags).to.include(`urlprefix-/${jobId} strip=/${jobId}`);
    });

    it('Fabio shows the route and a request through its proxy port returns the Vault secret', async function () {
      this.timeout(60_000);
      const routes = await eventually('the route in Fabio', 45_000, async () => {
        const res = await fetch(`${stackAddresses.fabioApi}/api/routes`);
        const r = (await res.json()) as { service: string; src: string; dst: string }[];
        return r.some((x) => x.service === jobId) ? r : undefined;
      });
      const route = routes.find((x) => x.service === jobId)!;
      expect(route.src).to.equal(`/${jobId}`);
      expect(route.dst).to.match(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const body = await eventually('the page through Fabio', 30_000, async () => {
        const res = await fetch(`${stackAddresses.fabioProxy}/${jobId}/`);
        return res.status === 200 ? (await res.text()).trim() : undefined;
      });
      expect(body).to.equal(greeting);
    });
  });

  it('QA registry: pushes a blob and a manifest and reads both back by digest', async () => {
    const reg = stackAddresses.registryQa;
    const repo = `hashiship-test/r${randomBytes(3).toString('hex')}`;
    const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
    const push = async (blob: Buffer) => {
      const start = await fetch(`${reg}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
      expect(start.status).to.equal(202);
      const loc = new URL(start.headers.get('location')!, reg);
      loc.searchParams.set('digest', sha(blob));
      const put = await fetch(loc, { method: 'PUT', body: blob, headers: { 'Content-Type': 'application/octet-stream' } });
      expect(put.status).to.equal(201);
      return sha(blob);
    };
    const layer = randomBytes(4096);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    const layerDigest = await push(layer);
    const configDigest = await push(config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
      }),
    );
    const put = await fetch(`${reg}/v2/${repo}/manifests/v1`, {
      method: 'PUT',
      body: manifest,
      headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(put.status).to.equal(201);
    expect(put.headers.get('docker-content-digest')).to.equal(sha(manifest));
    const got = await fetch(`${reg}/v2/${repo}/manifests/${sha(manifest)}`, {
      headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(Buffer.from(await got.arrayBuffer()).equals(manifest)).to.equal(true);
    const blob = await fetch(`${reg}/v2/${repo}/blobs/${layerDigest}`);
    expect(Buffer.from(await blob.arrayBuffer()).equals(layer)).to.equal(true);
  });

  it('`dev env` makes the real consul, nomad, vault and docker CLIs work against the stack', async function () {
    this.timeout(60_000);
    const script = `${envScript(stack.options)}
set -e
consul members | grep -q alive
nomad node status | grep -q ready
docker info --format '{{.DockerRootDir}}' | grep -q '/docker/data$'
vault kv put -mount=secret hashiship-test/env v=1 >/dev/null
vault kv get -field=v -mount=secret hashiship-test/env`;
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/nonexistent' };
    const { stdout } = await promisify(execFile)('bash', ['-c', script], { env });
    expect(stdout.trim()).to.equal('1');
    expect(envScript(stack.options)).not.to.include(stack.env['VAULT_TOKEN']!);
  });

  // A suite of its own so that it runs last in this file (mocha runs a suite's tests before its
  // child suites): it restarts the stack's Consul, a dev agent whose catalog and KV start empty.
  describe('a Consul that died', function () {
    it('`dev up` after Consul died restarts our Fabio too, and Fabio routes what the new Consul holds', async function () {
      this.timeout(120_000);
      const stateFile = join(stateDirOf(stack.options), 'stack.json');
      const pids = () => (JSON.parse(readFileSync(stateFile, 'utf8')) as { components: Record<string, { pid?: number }> }).components;
      const consulPid = pids()['consul']?.pid;
      const fabioPid = pids()['fabio']?.pid;
      expect(consulPid, 'this stack was started by hashiship (its Consul pid is recorded)').to.be.a('number');
      expect(fabioPid, 'its Fabio pid is recorded').to.be.a('number');
      process.kill(consulPid!, 'SIGKILL');
      await eventually('the old Consul gone', 10_000, async () => {
        try {
          process.kill(consulPid!, 0);
          return undefined;
        } catch {
          return true;
        }
      });

      const r = await up(stack.options);
      expect(r.started).to.include('consul');
      // Fabio's blocking queries waited on the old Consul's index: kept, it showed no route for minutes.
      expect(r.started).to.include('fabio');
      expect(pids()['fabio']?.pid).to.not.equal(fabioPid);

      const server = http.createServer((_req, res) => res.end('routed'));
      await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
      const port = (server.address() as AddressInfo).port;
      const id = `hashiship-restart-${randomBytes(4).toString('hex')}`;
      const consul = stack.config.consul.address;
      try {
        const reg = await fetch(`${consul}/v1/agent/service/register`, {
          method: 'PUT',
          body: JSON.stringify({
            ID: id,
            Name: id,
            Address: '127.0.0.1',
            Port: port,
            Tags: [`urlprefix-${id}.test/`],
            Check: { HTTP: `http://127.0.0.1:${port}/`, Interval: '1s', Timeout: '1s' },
          }),
        });
        expect(reg.status).to.equal(200);
        const fabioUi = stackAddresses.fabioApi;
        const routed = await eventually('the route in the restarted Fabio', 20_000, async () => {
          const routes = (await (await fetch(`${fabioUi}/api/routes`)).json()) as { service: string }[] | null;
          return (routes ?? []).some((x) => x.service === id) ? true : undefined;
        });
        expect(routed).to.equal(true);
      } finally {
        await fetch(`${consul}/v1/agent/service/deregister/${id}`, { method: 'PUT' });
        server.close();
      }
    });
  });
});
