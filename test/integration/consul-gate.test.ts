/**
 * The Consul health gate, KV check-and-set and maintenance mode against the
 * stack's real Consul. Instances are registered on the agent directly, backed by
 * small node HTTP servers (HTTP checks) or TTL checks the test flips; every
 * service name is unique to the run and deregistered afterwards.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExitCode, GateError } from '../../src/errors.js';
import { collecting } from '../../src/log.js';
import { useStack, type TestStack } from '../helpers/stack.js';

const run = randomBytes(3).toString('hex');
const svc = (name: string) => `gate-${run}-${name}`;

async function consulPut(stack: TestStack, path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${stack.config.consul.address}/v1${path}`, {
    method: 'PUT',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`PUT ${path}: ${res.status} ${await res.text()}`);
}

/** An instance with a TTL check the test sets by hand (`critical` at first). */
async function ttlInstance(stack: TestStack, id: string, name: string, version: string, tags: string[] = []): Promise<string> {
  await consulPut(stack, '/agent/service/register', {
    ID: id,
    Name: name,
    Tags: tags,
    Meta: { version },
    Port: 1,
    Check: { CheckID: `${id}-ttl`, Name: 'ttl', TTL: '10m', Status: 'critical' },
  });
  return `${id}-ttl`;
}

const setCheck = (stack: TestStack, checkId: string, status: 'pass' | 'fail' | 'warn', note = '') =>
  consulPut(stack, `/agent/check/${status}/${encodeURIComponent(checkId)}?note=${encodeURIComponent(note)}`);

describe('consul health gate (real Consul)', function () {
  let stack: TestStack;
  const registered: string[] = [];
  const servers: http.Server[] = [];

  before(async function () {
    this.timeout(600_000);
    stack = await useStack();
  });

  after(async function () {
    for (const id of registered) await consulPut(stack, `/agent/service/deregister/${encodeURIComponent(id)}`).catch(() => {});
    for (const s of servers) s.close();
  });

  it('opens on the blocking query that carries the last passing check, not on a poll', async function () {
    const name = svc('all');
    const checks = [];
    for (const i of [1, 2]) {
      registered.push(`${name}-${i}`);
      checks.push(await ttlInstance(stack, `${name}-${i}`, name, 'v1'));
    }
    const log = collecting();
    const gate = stack.clients.consul.health.waitForHealthy({ service: name, version: 'v1', min: 2, deadlineMs: 20_000, log });
    await new Promise((r) => setTimeout(r, 300));
    await setCheck(stack, checks[0]!, 'pass');
    await new Promise((r) => setTimeout(r, 300));
    await setCheck(stack, checks[1]!, 'pass');
    const passedAt = Date.now();
    const result = await gate;
    const detectMs = Date.now() - passedAt;
    process.stderr.write(`      [figure] gate opened ${detectMs} ms after the last check passed (${result.queries} queries)\n`);
    expect(result.passing).to.equal(2);
    expect(detectMs).to.be.below(1_000);
    // One answer at once, then one per change: blocking, not polling.
    expect(result.queries).to.be.within(2, 4);
    const gates = log.events.filter((e) => e.kind === 'consul.gate');
    expect(gates.map((e) => (e.kind === 'consul.gate' ? e.passing : -1))).to.include.members([0, 1, 2]);
  });

  it('fails at the deadline naming the instance, the check and its output (HTTP check answering 503)', async function () {
    const name = svc('fail');
    const server = http.createServer((_q, r) => {
      r.statusCode = 503;
      r.end('db: connection refused');
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    registered.push(`${name}-1`);
    await consulPut(stack, '/agent/service/register', {
      ID: `${name}-1`,
      Name: name,
      Meta: { version: 'v3' },
      Address: '127.0.0.1',
      Port: port,
      Check: { CheckID: `${name}-1-http`, Name: 'http health', HTTP: `http://127.0.0.1:${port}/health`, Interval: '500ms' },
    });
    const started = Date.now();
    const err = await stack.clients.consul.health.waitForHealthy({ service: name, version: 'v3', deadlineMs: 2_500 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(GateError);
    const gate = err as GateError;
    expect(gate.exitCode).to.equal(ExitCode.gate);
    const text = gate.describe();
    expect(text).to.contain(`Instance ${name}-1`);
    expect(text).to.contain('check "http health"');
    expect(text).to.contain('critical');
    expect(text).to.contain('db: connection refused');
    expect(Date.now() - started).to.be.within(2_400, 6_000);
  });

  it('at least N: 2 of 3 passing opens "at least 2", refuses "at least 3" and "all"; other versions are ignored', async function () {
    const name = svc('atleast');
    const ids = [1, 2, 3].map((i) => `${name}-${i}`);
    registered.push(...ids, `${name}-old`);
    const checks = [];
    for (const id of ids) checks.push(await ttlInstance(stack, id, name, 'v2'));
    await ttlInstance(stack, `${name}-old`, name, 'v1'); // critical, other version
    await setCheck(stack, checks[0]!, 'pass');
    await setCheck(stack, checks[1]!, 'pass');
    await setCheck(stack, checks[2]!, 'fail', 'disk full on /data');

    const ok = await stack.clients.consul.health.waitForHealthy({ service: name, version: 'v2', require: 2, deadlineMs: 5_000 });
    expect(ok.passing).to.equal(2);
    expect(ok.instances).to.have.length(3);

    const three = await stack.clients.consul.health.waitForHealthy({ service: name, version: 'v2', require: 3, deadlineMs: 800 }).catch((e: unknown) => e);
    expect(three).to.be.instanceOf(GateError);
    expect((three as GateError).describe())
      .to.contain(`Instance ${name}-3`)
      .and.contain('disk full on /data');
    expect((three as GateError).describe()).not.to.contain(`${name}-old`);

    const all = await stack.clients.consul.health.waitForHealthy({ service: name, version: 'v2', deadlineMs: 500 }).catch((e: unknown) => e);
    expect(all).to.be.instanceOf(GateError);
    expect((all as GateError).message).to.contain('2 of 3');

    const none = await stack.clients.consul.health.waitForHealthy({ service: name, version: 'v9', deadlineMs: 300 }).catch((e: unknown) => e);
    expect((none as GateError).describe()).to.contain('none registered');
  });

  it('maintenance mode on closes the gate naming the maintenance check and its reason; off opens it again', async function () {
    const name = svc('maint');
    registered.push(`${name}-1`);
    const check = await ttlInstance(stack, `${name}-1`, name, 'v1');
    await setCheck(stack, check, 'pass');
    await stack.clients.consul.health.waitForHealthy({ service: name, deadlineMs: 5_000 });

    const log = collecting();
    await stack.clients.consul.maintenance.set({ serviceId: `${name}-1` }, true, { reason: 'rotating disks', log });
    const closed = await stack.clients.consul.health.waitForHealthy({ service: name, deadlineMs: 500 }).catch((e: unknown) => e);
    expect(closed).to.be.instanceOf(GateError);
    expect((closed as GateError).describe())
      .to.contain('maintenance')
      .and.contain('rotating disks');

    await stack.clients.consul.maintenance.set({ serviceId: `${name}-1` }, false, { log });
    const open = await stack.clients.consul.health.waitForHealthy({ service: name, deadlineMs: 5_000 });
    expect(open.passing).to.equal(1);
    expect(log.events.map((e) => e.kind)).to.deep.equal(['consul.maintenance', 'consul.maintenance']);

    const unknown = await stack.clients.consul.maintenance.set({ serviceId: `${name}-absent` }, true).catch((e: unknown) => e);
    expect((unknown as { exitCode?: number }).exitCode).to.equal(ExitCode.unreachable);
  });
});

describe('consul KV check-and-set (real Consul)', function () {
  let stack: TestStack;
  const key = `hashiship-test/${run}/config`;

  before(async function () {
    this.timeout(600_000);
    stack = await useStack();
  });

  after(async function () {
    await fetch(`${stack.config.consul.address}/v1/kv/hashiship-test/${run}?recurse=true`, { method: 'DELETE' });
  });

  it('creates with cas=0 once; a second create is exit 6 and leaves the first value', async function () {
    const a = await stack.clients.consul.kv.putCas(key, 'replicas=2', 0);
    expect(a.modifyIndex).to.be.greaterThan(0);
    const err = await stack.clients.consul.kv.putCas(key, 'replicas=9', 0).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(GateError);
    expect((err as GateError).exitCode).to.equal(ExitCode.gate);
    expect((err as GateError).describe())
      .to.contain('key absent')
      .and.contain(String(a.modifyIndex));
    expect((await stack.clients.consul.kv.get(key))?.value).to.equal('replicas=2');
  });

  it('a write or delete naming a stale index loses to the concurrent change (exit 6), never overwrites it', async function () {
    const read = await stack.clients.consul.kv.get(key);
    expect(read).to.not.equal(undefined);
    const other = await stack.clients.consul.kv.putCas(key, 'replicas=3', read!.modifyIndex); // the other writer
    const lost = await stack.clients.consul.kv.putCas(key, 'replicas=4', read!.modifyIndex).catch((e: unknown) => e);
    expect(lost).to.be.instanceOf(GateError);
    const del = await stack.clients.consul.kv.deleteCas(key, read!.modifyIndex).catch((e: unknown) => e);
    expect(del).to.be.instanceOf(GateError);
    const now = await stack.clients.consul.kv.get(key);
    expect(now).to.deep.equal({ key, value: 'replicas=3', modifyIndex: other.modifyIndex });
  });

  it('kvUpdate writes with the index it read, skips an unchanged value, and deletes with cas', async function () {
    const log = collecting();
    const up = await stack.clients.consul.kv.update(key, (v) => `${v ?? ''}\nmax=5`, { log });
    expect(up?.value).to.equal('replicas=3\nmax=5');
    const same = await stack.clients.consul.kv.update(key, (v) => v ?? '', { log });
    expect(same?.modifyIndex).to.equal(up?.modifyIndex);
    expect(await stack.clients.consul.kv.update(key, () => null, { log })).to.equal(undefined);
    expect(await stack.clients.consul.kv.get(key)).to.equal(undefined);
    expect(log.events.map((e) => (e.kind === 'consul.kv' ? e.action : e.kind))).to.deep.equal(['write', 'delete']);
  });
});
