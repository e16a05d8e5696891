/**
 * Canary weights through the stack's real Fabio 1.7.2: two versions of a tiny
 * service (node HTTP servers answering their version, registered on the Consul
 * agent with HTTP checks and a `urlprefix-` tag), a 20 % weight rule written to
 * `fabio/config/<service>` with check-and-set, 1,000 requests through Fabio's
 * proxy port, then the rule removed. Names are unique to the run and cleaned up.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExitCode, GateError } from '../../src/errors.js';
import { applyCanaryWeight, removeCanaryWeight } from '../../src/fabio/canary.js';
import { fabioApi, readRoutes, waitForRoutes } from '../../src/fabio/routes.js';
import { weightKey } from '../../src/fabio/weights.js';
import { collecting } from '../../src/log.js';
import { useStack, type TestStack } from '../helpers/stack.js';

const run = randomBytes(3).toString('hex');
const PROXY = 'http://127.0.0.1:9999';

async function consulPut(stack: TestStack, path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${stack.config.consul.address}/v1${path}`, {
    method: 'PUT',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`PUT ${path}: ${res.status} ${await res.text()}`);
}

/** A server answering its version on every path; `/health` answers `health()`'s status. */
async function versionServer(version: string, health: () => number = () => 200): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((q, r) => {
    if (q.url === '/health') {
      r.statusCode = health();
      r.end(r.statusCode === 200 ? 'ok' : 'warming up');
      return;
    }
    r.end(version);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

/** Send `n` GETs through Fabio's proxy, `parallel` at a time; count answers by body. */
async function split(path: string, n: number, parallel = 20): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const res = await fetch(`${PROXY}${path}`);
      const body = res.status === 200 ? await res.text() : `status ${res.status}`;
      counts.set(body, (counts.get(body) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return counts;
}

describe('fabio canary weights (real Fabio and Consul)', function () {
  let stack: TestStack;
  const registered: string[] = [];
  const servers: http.Server[] = [];
  const keys: string[] = [];
  const fabio = fabioApi();

  before(async function () {
    this.timeout(600_000);
    stack = await useStack();
  });

  after(async function () {
    for (const id of registered) await consulPut(stack, `/agent/service/deregister/${encodeURIComponent(id)}`).catch(() => {});
    for (const k of keys) await fetch(`${stack.config.consul.address}/v1/kv/${k}`, { method: 'DELETE' }).catch(() => {});
    for (const s of servers) s.close();
  });

  async function register(name: string, id: string, version: string, port: number, canary: boolean, route: string): Promise<void> {
    registered.push(id);
    await consulPut(stack, '/agent/service/register', {
      ID: id,
      Name: name,
      Address: '127.0.0.1',
      Port: port,
      Tags: canary ? [route, 'canary'] : [route],
      Meta: { version },
      Check: { CheckID: `${id}-http`, Name: 'http', HTTP: `http://127.0.0.1:${port}/health`, Interval: '500ms' },
    });
  }

  it('20 % on the canary: the weight goes live in /api/routes and 1,000 requests land 20 % ± 5 % on it; removal restores even routing', async function () {
    const name = `fw-${run}-web`;
    const route = `urlprefix-/${name}`;
    keys.push(weightKey(name));
    const v1 = await versionServer('v1');
    const v2 = await versionServer('v2');
    servers.push(v1.server, v2.server);
    await register(name, `${name}-v1`, 'v1', v1.port, false, route);
    await register(name, `${name}-v2`, 'v2', v2.port, true, route);
    // Both versions live with even weights before any rule.
    await waitForRoutes(fabio, { service: name, sources: [`/${name}`], targets: 2 }, { deadlineMs: 15_000 });

    const log = collecting();
    const applied = await applyCanaryWeight(stack.clients.consul, fabio, 0.2, { service: name, routeTags: [route], log });
    process.stderr.write(`      [figure] weight live in Fabio ${applied.liveAfterMs} ms after the KV write\n`);
    expect(applied.key).to.equal(`fabio/config/${name}`);
    expect(applied.rules).to.deep.equal([`route weight ${name} /${name} weight 0.2 tags "canary"`]);
    const canary = applied.routes.find((r) => r.tags.includes('canary'));
    const stable = applied.routes.find((r) => !r.tags.includes('canary'));
    expect(canary?.weight).to.be.closeTo(0.2, 0.001);
    expect(stable?.weight).to.be.closeTo(0.8, 0.001);
    expect((await stack.clients.consul.kv.get(applied.key))?.value).to.contain('route weight');
    expect(log.events.map((e) => e.kind)).to.include.members(['consul.gate', 'consul.kv', 'fabio.weights', 'fabio.routes']);

    const counts = await split(`/${name}`, 1_000);
    const onCanary = counts.get('v2') ?? 0;
    process.stderr.write(`      [figure] 1,000 requests: ${onCanary} on the canary (${(onCanary / 10).toFixed(1)} %), ${counts.get('v1') ?? 0} on v1\n`);
    expect((counts.get('v1') ?? 0) + onCanary).to.equal(1_000);
    expect(onCanary).to.be.within(150, 250);

    const removed = await removeCanaryWeight(stack.clients.consul, fabio, { service: name, routeTags: [route], cas: applied.modifyIndex, log });
    process.stderr.write(`      [figure] even routing live ${removed.liveAfterMs} ms after the rule was removed\n`);
    expect(await stack.clients.consul.kv.get(applied.key)).to.equal(undefined);
    for (const r of removed.routes) expect(r.weight).to.be.closeTo(0.5, 0.001);
  });

  it('never writes a weight before the canary passes: the gate refuses (exit 6) and the key stays absent', async function () {
    const name = `fw-${run}-cold`;
    const route = `urlprefix-/${name}`;
    keys.push(weightKey(name));
    const v1 = await versionServer('v1');
    const v2 = await versionServer('v2', () => 503);
    servers.push(v1.server, v2.server);
    await register(name, `${name}-v1`, 'v1', v1.port, false, route);
    await register(name, `${name}-v2`, 'v2', v2.port, true, route);
    const err = await applyCanaryWeight(stack.clients.consul, fabio, 0.2, { service: name, routeTags: [route], healthDeadlineMs: 2_000 }).catch(
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(GateError);
    expect((err as GateError).describe())
      .to.contain(`Instance ${name}-v2`)
      .and.contain('503');
    expect(await stack.clients.consul.kv.get(weightKey(name))).to.equal(undefined);
    expect((await readRoutes(fabio)).filter((r) => r.service === name && r.weight !== 1)).to.have.length(0);
  });

  it('a concurrent change of the weight key is exit 6, and the other writer keeps its rule', async function () {
    const name = `fw-${run}-race`;
    const route = `urlprefix-/${name}`;
    const key = weightKey(name);
    keys.push(key);
    const v2 = await versionServer('v2');
    servers.push(v2.server);
    await register(name, `${name}-v2`, 'v2', v2.port, true, route);
    const mine = await stack.clients.consul.kv.putCas(key, '# first\n', 0);
    await stack.clients.consul.kv.putCas(key, '# someone else\n', mine.modifyIndex);
    const lost = await stack.clients.consul.kv.putCas(key, '# mine\n', mine.modifyIndex).catch((e: unknown) => e);
    expect((lost as GateError).exitCode).to.equal(ExitCode.gate);
    expect((await stack.clients.consul.kv.get(key))?.value).to.equal('# someone else\n');
    // A weight step naming the index of the previous step loses the same way, before Fabio is touched.
    const step = await applyCanaryWeight(stack.clients.consul, fabio, 0.5, { service: name, routeTags: [route], cas: mine.modifyIndex }).catch(
      (e: unknown) => e,
    );
    expect(step).to.be.instanceOf(GateError);
    expect((step as GateError).message).to.contain('changed since it was read');
    const removal = await removeCanaryWeight(stack.clients.consul, fabio, { service: name, routeTags: [route], cas: mine.modifyIndex }).catch(
      (e: unknown) => e,
    );
    expect((removal as GateError).exitCode).to.equal(ExitCode.gate);
    expect((await stack.clients.consul.kv.get(key))?.value).to.equal('# someone else\n');
  });

  it('a weight that never goes live fails at the deadline with the difference', async function () {
    const name = `fw-${run}-diff`;
    const route = `urlprefix-/${name}`;
    const v1 = await versionServer('v1');
    const v2 = await versionServer('v2');
    servers.push(v1.server, v2.server);
    await register(name, `${name}-v1`, 'v1', v1.port, false, route);
    await register(name, `${name}-v2`, 'v2', v2.port, true, route);
    await waitForRoutes(fabio, { service: name, sources: [`/${name}`], targets: 2 }, { deadlineMs: 15_000 });
    const started = Date.now();
    const err = await waitForRoutes(fabio, { service: name, sources: [`/${name}`, `/${name}-missing`], canaryWeight: 0.3 }, { deadlineMs: 1_000 }).catch(
      (e: unknown) => e,
    );
    expect(Date.now() - started).to.be.within(900, 3_000);
    expect(err).to.be.instanceOf(GateError);
    const text = (err as GateError).describe();
    expect(text).to.contain('canary targets get 50.0 %, expected 30.0 %');
    expect(text).to.contain(`/${name}-missing: no live route for ${name}`);
  });
});
