/** Pure parts of the Consul health gate: parsing, selection, the open rule, failure lines. */
import { expect } from 'chai';
import { createClients } from '../../src/clients.js';
import { resolveConfig } from '../../src/config/index.js';
import { describeFailures, gateOpen, parseInstances, selectInstances } from '../../src/consul/health.js';
import { ExitCode, ServerError } from '../../src/errors.js';
import { fabioApi, readRoutes } from '../../src/fabio/routes.js';

const entry = (id: string, version: string, status: string, tags: string[] = [], output = '') => ({
  Node: { Node: 'n1', Address: '10.0.0.1' },
  Service: { ID: id, Service: 'web', Port: 8080, Tags: tags, Meta: { version } },
  Checks: [
    { CheckID: 'serfHealth', Name: 'Serf Health Status', Status: 'passing', Output: 'Agent alive' },
    { CheckID: `service:${id}`, Name: 'http', Status: status, Output: output },
  ],
});

describe('consul health gate (pure)', () => {
  const instances = parseInstances([
    entry('a', 'v1', 'passing'),
    entry('b', 'v1', 'critical', [], 'HTTP GET http://10.0.0.1:8080/health: 503 Service Unavailable Output: db down'),
    entry('c', 'v2', 'passing', ['canary']),
  ]);

  it('an instance passes only when every node and service check passes; the address falls back to the node', () => {
    expect(instances.map((i) => [i.id, i.passing, i.address])).to.deep.equal([
      ['a', true, '10.0.0.1'],
      ['b', false, '10.0.0.1'],
      ['c', true, '10.0.0.1'],
    ]);
    expect(parseInstances({ not: 'a list' })).to.deep.equal([]);
  });

  it('selects by version meta and tags, and opens on "all" (with a minimum) or "at least N"', () => {
    const v1 = selectInstances(instances, { service: 'web', version: 'v1' });
    expect(v1.map((i) => i.id)).to.deep.equal(['a', 'b']);
    expect(selectInstances(instances, { service: 'web', tags: ['canary'] }).map((i) => i.id)).to.deep.equal(['c']);
    expect(selectInstances(instances, { service: 'web', version: 'v1', versionMetaKey: 'build' })).to.deep.equal([]);
    expect(gateOpen(v1, {})).to.equal(false);
    expect(gateOpen(v1, { require: 1 })).to.equal(true);
    expect(gateOpen(v1, { require: 2 })).to.equal(false);
    expect(gateOpen([], {})).to.equal(false);
    expect(gateOpen([], { min: 0 })).to.equal(true);
    expect(gateOpen(selectInstances(instances, { service: 'web', version: 'v2' }), { min: 2 })).to.equal(false);
  });

  it('names the failing instance, node, check and output, and only those', () => {
    expect(describeFailures(instances)).to.deep.equal([
      ['Instance b', 'node n1, check "http" (service:b) critical: HTTP GET http://10.0.0.1:8080/health: 503 Service Unavailable Output: db down'],
    ]);
  });
});

describe('consul and fabio unreachable', () => {
  // Port 1 on loopback: nothing listens, the connection is refused at once.
  const { consul } = createClients(resolveConfig({ env: { CONSUL_HTTP_ADDR: 'http://127.0.0.1:1' }, home: '/nonexistent' }));

  it('the gate, KV writes and route reads fail with exit 2 naming the operation, not a gate refusal', async () => {
    for (const [op, p] of [
      ['health.service', consul.health.waitForHealthy({ service: 'web', deadlineMs: 1_000 })],
      ['kv.set', consul.kv.putCas('a/b', 'x', 0)],
      ['routes', readRoutes(fabioApi('http://127.0.0.1:1'))],
    ] as const) {
      const err = await (p as Promise<unknown>).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ServerError);
      expect((err as ServerError).exitCode).to.equal(ExitCode.unreachable);
      expect((err as ServerError).message)
        .to.contain(op)
        .and.contain('connection refused');
    }
  });
});
