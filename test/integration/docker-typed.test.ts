/**
 * Issue 12 §1, proof that the typed docker options mean what they say: a spec
 * with `docker:` options is rendered by hashiship, its API JSON registered with
 * the dev stack's Nomad as is, and the container Nomad's docker driver starts is
 * read back from the engine — labels, logging, ulimits, the tmpfs mount, dropped
 * capabilities, extra hosts, shm size, entrypoint and working directory are there.
 * (test/integration/render.test.ts proves that the same JSON is what Nomad's
 * parser makes of the rendered HCL.)
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { formatProblem } from '../../src/errors.js';
import type { NomadClient } from '../../src/nomad/client.js';
import { renderJob } from '../../src/nomad/render.js';
import { loadSet } from '../../src/service-spec/load.js';
import { standalone } from '../../src/service-spec/overlay.js';
import { NomadAllocLabel } from '../../src/stack/docker.js';
import { buildAndPushHello, docker } from '../helpers/images.js';
import { useStack, type TestStack } from '../helpers/stack.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface AllocStub {
  readonly ID: string;
  readonly ClientStatus: string;
  readonly TaskStates?: Record<string, { Events?: { Type: string; DisplayMessage?: string }[] }>;
}

interface Container {
  readonly Config: { Labels: Record<string, string>; Entrypoint: string[] | null; WorkingDir: string };
  readonly HostConfig: {
    LogConfig: { Type: string; Config: Record<string, string> };
    Ulimits: { Name: string; Soft: number; Hard: number }[] | null;
    Tmpfs?: Record<string, string> | null;
    CapDrop: string[] | null;
    ExtraHosts: string[] | null;
    ShmSize: number;
    NetworkMode: string;
  };
  readonly Mounts: { Type: string; Destination: string }[];
}

describe('typed docker options on the real docker driver (issue 12)', function () {
  let stack: TestStack;
  let nomad: NomadClient;
  let host: string;
  const suffix = randomBytes(4).toString('hex');
  const jobId = `typed-docker-${suffix}`;

  before(async function () {
    this.timeout(90 * 60_000);
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

  it('starts a container with every option the spec set', async function () {
    this.timeout(300_000);
    const image = await buildAndPushHello(host, '127.0.0.1:5001', `hashiship-test/typed-${suffix}`, '1');
    const spec = `name: ${jobId}
groups:
  - name: web
    ports:
      http: {}
    services:
      - port: http
        checks:
          - {type: http, path: /health, interval: 1s, timeout: 1s}
    tasks:
      - name: web
        image: {repository: "127.0.0.1:5001/hashiship-test/typed-${suffix}", digest: "${image.digest}"}
        ports: []
        docker:
          network_mode: host
          entrypoint: [/hello]
          work_dir: /
          labels: {com.example/team: typed, hashiship.test: "${suffix}"}
          logging: {type: json-file, config: {max-size: 1m, max-file: "2"}}
          ulimit: {nofile: "4096:8192"}
          cap_drop: [NET_RAW]
          mount:
            - {type: tmpfs, target: /scratch, tmpfs_options: {size: 1048576}}
          extra_hosts: ["db.typed.internal:10.0.0.5"]
          shm_size: 33554432
        resources: {cpu: 50, memory: 32}
        services:
          - name: "\${JOB}-\${TASK}"
            port: http
            checks:
              - {type: tcp, interval: 1s, timeout: 1s}
`;
    const set = loadSet([{ file: `${jobId}.yaml`, text: spec, kind: 'service' }]);
    expect(set.problems.map(formatProblem)).to.deep.equal([]);
    const job = renderJob(standalone(set.services[0]!));
    await nomad.request('jobs.register', { method: 'POST', path: '/v1/jobs', data: { Job: job } });

    const deadline = Date.now() + 120_000;
    let alloc: AllocStub | undefined;
    while (alloc === undefined) {
      const allocs = (await nomad.request<AllocStub[]>('job.allocations', { path: `/v1/job/${jobId}/allocations` })).data;
      const failed = allocs.find((a) => a.ClientStatus === 'failed');
      if (failed !== undefined) throw new Error(`allocation failed: ${JSON.stringify(failed.TaskStates)}`);
      alloc = allocs.find((a) => a.ClientStatus === 'running');
      if (alloc === undefined) {
        if (Date.now() > deadline) throw new Error(`no running allocation: ${JSON.stringify(allocs.map((a) => a.TaskStates))}`);
        await sleep(300);
      }
    }

    const ids = (await docker(host, ['ps', '--quiet', '--no-trunc', '--filter', `label=${NomadAllocLabel}=${alloc.ID}`])).trim().split('\n');
    expect(ids).to.have.length(1);
    const [c] = JSON.parse(await docker(host, ['container', 'inspect', ids[0]!])) as Container[];
    expect(c!.Config.Labels).to.include({ 'com.example/team': 'typed', 'hashiship.test': suffix });
    expect(c!.Config.Entrypoint).to.deep.equal(['/hello']);
    expect(c!.Config.WorkingDir).to.equal('/');
    expect(c!.HostConfig.LogConfig).to.deep.equal({ Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '2' } });
    expect(c!.HostConfig.Ulimits).to.deep.include({ Name: 'nofile', Soft: 4096, Hard: 8192 });
    expect(c!.HostConfig.CapDrop).to.deep.equal(['CAP_NET_RAW']); // the engine writes capabilities with their CAP_ prefix
    expect(c!.HostConfig.ExtraHosts).to.include('db.typed.internal:10.0.0.5');
    expect(c!.HostConfig.ShmSize).to.equal(33554432);
    expect(c!.HostConfig.NetworkMode).to.equal('host');
    expect(c!.Mounts.filter((m) => m.Type === 'tmpfs').map((m) => m.Destination)).to.deep.equal(['/scratch']);
  });

  it("registers unnamed checks under Nomad's own default name, and task services with their task", async function () {
    this.timeout(30_000);
    interface StoredService {
      Name: string;
      TaskName: string;
      Checks: { Name: string; TaskName: string }[];
    }
    const stored = (
      await nomad.request<{ TaskGroups: { Services: StoredService[]; Tasks: { Services: StoredService[] }[] }[] }>('job.read', { path: `/v1/job/${jobId}` })
    ).data;
    const g = stored.TaskGroups[0]!;
    expect(g.Services[0]!.Checks[0]!.Name).to.equal(`service: "${jobId}" check`);
    const t = g.Tasks[0]!.Services[0]!;
    expect(t).to.include({ Name: `${jobId}-web`, TaskName: 'web' });
    expect(t.Checks[0]).to.include({ Name: `service: "${jobId}-web" check`, TaskName: 'web' });
  });
});
