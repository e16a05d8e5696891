/**
 * The repository's examples (jobs/services with jobs/environments/qa.yaml) run on the
 * dev stack, as docs/containers.md ("The repository's examples") tells an operator:
 * `bash scripts/examples-setup.sh` (images made here and pushed to the QA registry,
 * artifacts in Consul KV, Vault secrets, PKI, policies and roles, KV keys, the MySQL
 * host volume), then one `hashiship deploy --env qa` of every example that can run here.
 * Each is then read back from the real servers: Consul checks passing (http, tcp,
 * gRPC and script checks), the containers running the images of the QA registry, the
 * routes answered through Fabio with values from Consul KV, a dispatch of the
 * parameterized batch job completed with its payload's products indexed, the periodic
 * job registered with QA's schedule. Jobs this file created (the dispatched one
 * included) are purged at the end; jobs that ran before are left running.
 * MongoDB, Kafka and Fabio itself cannot run here (see docs/containers.md); they are
 * rendered and checked against Nomad by render.test.ts.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { viaFabio } from '../helpers/sample.js';
import { useStack, type TestStack } from '../helpers/stack.js';
import { NomadAllocLabel } from '../../src/stack/docker.js';
import { docker } from '../helpers/images.js';
import { cli, eventually, figure, passing, QaRegistry, runningAllocs, withEnv, type Container } from '../helpers/workloads.js';

const exec = promisify(execFile);

/** The examples that run on the dev stack, with their Nomad namespace in qa. */
const runnable = {
  redis: 'storefront',
  mysql: 'storefront',
  web: 'storefront',
  billing: 'finance',
  reindex: 'catalog',
  reports: 'finance',
} as const;
type Name = keyof typeof runnable;
const names = Object.keys(runnable) as Name[];

describe('examples: jobs/services deploy on the dev stack with one hashiship deploy --env qa', function () {
  let stack: TestStack;
  let nomad: string;
  let restore: () => void = () => undefined;
  const created: Name[] = [];
  let dispatched: string | undefined;

  const job = async (name: Name) => fetch(`${nomad}/v1/job/${name}?namespace=${runnable[name]}`);

  before(async function () {
    this.timeout(20 * 60_000);
    stack = await useStack();
    nomad = stack.config.nomad.address;
    restore = withEnv(stack.env);
    for (const name of names) if ((await job(name)).status === 404) created.push(name);
    const t0 = Date.now();
    // The documented command, as an operator runs it (cold: makes the images; warm: seconds).
    const r = await exec('bash', ['scripts/examples-setup.sh'], { env: { ...process.env, ...stack.env }, timeout: 15 * 60_000, maxBuffer: 4 * 1024 * 1024 });
    figure('examples: bash scripts/examples-setup.sh', (Date.now() - t0) / 1000);
    // It never prints a secret: the stack's token, nor any value it wrote to Vault.
    expect(r.stdout + r.stderr).not.to.include(stack.env['VAULT_TOKEN']);
    expect(r.stdout).to.include('examples-setup: done');
  });

  after(async function () {
    this.timeout(60_000);
    restore();
    if (dispatched !== undefined)
      await fetch(`${nomad}/v1/job/${encodeURIComponent(dispatched)}?namespace=catalog&purge=true`, { method: 'DELETE' }).catch(() => undefined);
    for (const name of created) await fetch(`${nomad}/v1/job/${name}?namespace=${runnable[name]}&purge=true`, { method: 'DELETE' }).catch(() => undefined);
  });

  it('deploys every runnable example in one hashiship deploy --env qa (exit 0)', async function () {
    this.timeout(10 * 60_000);
    const r = await cli('deploy', '--env', 'qa', '--parallel', String(names.length), ...names);
    figure(`examples: hashiship deploy --env qa ${names.join(' ')}`, r.seconds);
    expect(r.code, r.out).to.equal(0);
    for (const name of ['redis', 'mysql', 'web', 'billing'] as const) expect(r.out).to.match(new RegExp(`^${name}\\s+successful`, 'm'));
    expect(r.out).to.match(/^reindex\s+registered\s.*parameterized job registered/m);
    expect(r.out).to.match(/^reports\s+registered\s.*periodic job registered/m);
  });

  it('the services run in their namespaces with every Consul check passing (http, tcp, gRPC, script)', async function () {
    this.timeout(120_000);
    for (const name of ['redis', 'mysql', 'web', 'billing'] as const) {
      const allocs = await runningAllocs(nomad, name, runnable[name]);
      expect(allocs, name).to.have.length(1);
    }
    // web-metrics: tcp; billing-grpc: grpc.health.v1 over h2c; mysql: tcp + a script check run in the container.
    for (const service of ['redis', 'mysql', 'web', 'web-metrics', 'billing', 'billing-grpc']) {
      await eventually(`${service} passing in Consul`, 60_000, async () => ((await passing(service)).length === 1 ? true : undefined));
    }
    // The containers run the images the set-up pushed to the QA registry (the tags of the specs), on the host's network.
    const host = stack.env['DOCKER_HOST']!;
    for (const [name, task, image, tag] of [
      ['web', 'web', 'storefront/web', '2.14.0'],
      ['web', 'log-shipper', 'storefront/log-shipper', '1.0.0'],
      ['mysql', 'mysql', 'hashiship/mariadb', '10.11'],
      ['redis', 'redis', 'hashiship/redis', '7.0'],
    ] as const) {
      const [alloc] = await runningAllocs(nomad, name, runnable[name]);
      // Nomad names a task's container <task>-<allocation ID>.
      const ids = (await docker(host, ['ps', '--quiet', '--filter', `label=${NomadAllocLabel}=${alloc!.ID}`])).trim().split('\n');
      const c = (JSON.parse(await docker(host, ['container', 'inspect', ...ids])) as (Container & { Name: string })[]).find(
        (x) => x.Name === `/${task}-${alloc!.ID}`,
      );
      expect(c, `${task}: container ${task}-${alloc!.ID} among ${ids.length}`).not.to.equal(undefined);
      expect(c!.Config.Image, task).to.equal(`${QaRegistry}/${image}:${tag}`);
      expect(c!.HostConfig.NetworkMode, task).to.equal('host');
      // The image the container runs is the one the registry serves under that tag, by digest.
      const manifest = await fetch(`http://${QaRegistry}/v2/${image}/manifests/${tag}`, {
        method: 'HEAD',
        headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' },
      });
      const repoDigests = JSON.parse(await docker(host, ['image', 'inspect', '--format', '{{json .RepoDigests}}', c!.Image])) as string[];
      expect(repoDigests, task).to.include(`${QaRegistry}/${image}@${manifest.headers.get('docker-content-digest')}`);
    }
  });

  it('the routes answer through Fabio with the values the jobs read from Consul KV and Vault', async function () {
    this.timeout(60_000);
    const home = await eventually('the storefront through Fabio', 30_000, async () => {
      const res = await viaFabio('www.qa.example.com', '/');
      return res.status === 200 ? res.body : undefined;
    });
    // APP_ENV from qa.yaml, GREETING from the spec, the banner from Consul KV, the page from the static artifact.
    expect(home).to.include('<title>Storefront</title>').and.include('storefront web 2.14.0 (qa): Say "hi" — ünïcödé ✓');
    expect(home).to.include('Welcome to the QA storefront');
    const api = await viaFabio('www.qa.example.com', '/api/products');
    expect(api.status).to.equal(200);
    expect((JSON.parse(api.body) as { features: string[] }).features).to.deep.equal(['new-checkout', 'recommendations']);
    const billing = await viaFabio('api.qa.example.com', '/billing/');
    expect(billing.status).to.equal(200);
    expect(JSON.parse(billing.body)).to.deep.equal({ service: 'billing', version: '4.2.1', profile: 'nomad' });
    // Ready means its secrets arrived (database, session, PKI certificate and key from Vault).
    const [web] = await passing('web');
    const ready = await fetch(`http://${web!.address}:${web!.port}/ready`);
    expect(await ready.text()).to.equal('ready\n');
  });

  it('a dispatch of the parameterized batch job indexes the products of its payload; the periodic job is registered with QA’s schedule', async function () {
    this.timeout(120_000);
    // This dispatch stores the index afresh (an earlier run's would otherwise satisfy the check).
    await fetch(`${stack.env['CONSUL_HTTP_ADDR']}/v1/kv/catalog/search/index`, { method: 'DELETE' });
    // As `nomad job dispatch -namespace catalog reindex skus.txt`: the payload is written to the task's local/skus.txt.
    const payload = Buffer.from('SKU-00017\nSKU-00042\nSKU-01100\n').toString('base64');
    const res = await fetch(`${nomad}/v1/job/reindex/dispatch?namespace=catalog`, { method: 'POST', body: JSON.stringify({ Payload: payload }) });
    expect(res.status, await res.clone().text()).to.equal(200);
    dispatched = ((await res.json()) as { DispatchedJobID: string }).DispatchedJobID;
    expect(dispatched).to.match(/^reindex\/dispatch-/);
    const summary = await eventually('the dispatched reindex complete', 90_000, async () => {
      const s = (await (await fetch(`${nomad}/v1/job/${encodeURIComponent(dispatched!)}/summary?namespace=catalog`)).json()) as {
        Summary: { reindex: { Complete: number; Failed: number } };
      };
      return s.Summary.reindex.Complete >= 1 ? s.Summary.reindex : undefined;
    });
    expect(summary.Failed).to.equal(0);
    const index = await fetch(`${stack.env['CONSUL_HTTP_ADDR']}/v1/kv/catalog/search/index?raw`);
    expect(await index.json()).to.deep.include({ documents: 3, terms: ['1100', '17', '42', 'product'] });
    const reports = (await (await job('reports')).json()) as { Status: string; Periodic: { Enabled: boolean; Specs: string[]; TimeZone: string } };
    expect(reports.Status).to.equal('running');
    expect(reports.Periodic).to.deep.include({ Enabled: true, Specs: ['0 * * * *'], TimeZone: 'Europe/Berlin' });
  });
});
