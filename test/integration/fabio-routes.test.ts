/**
 * The `hashiship routes` report against the real Fabio: the expected table comes
 * from a rendered-job shape and the service's weight key, the live one from
 * `/api/routes`; they agree once the weight is live and differ (named) when an
 * expected route has no target.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { applyCanaryWeight, removeCanaryWeight } from '../../src/fabio/canary.js';
import { fabioApi } from '../../src/fabio/routes.js';
import { routesReport } from '../../src/fabio/table.js';
import { weightKey } from '../../src/fabio/weights.js';
import { useStack, type TestStack } from '../helpers/stack.js';

const run = randomBytes(3).toString('hex');

describe('fabio routes report (real Fabio and Consul)', function () {
  let stack: TestStack;
  const name = `fr-${run}-web`;
  const route = `urlprefix-/${name}`;
  const ids = [`${name}-v1`, `${name}-v2`];
  let server: http.Server;

  before(async function () {
    this.timeout(600_000);
    stack = await useStack();
    server = http.createServer((_q, r) => r.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    for (const [i, id] of ids.entries()) {
      const res = await fetch(`${stack.config.consul.address}/v1/agent/service/register`, {
        method: 'PUT',
        body: JSON.stringify({
          ID: id,
          Name: name,
          Address: '127.0.0.1',
          Port: port,
          Tags: i === 1 ? [route, 'canary'] : [route],
          Check: { HTTP: `http://127.0.0.1:${port}/`, Interval: '500ms', Status: 'passing' },
        }),
      });
      expect(res.status).to.equal(200);
    }
  });

  after(async function () {
    for (const id of ids) await fetch(`${stack.config.consul.address}/v1/agent/service/deregister/${id}`, { method: 'PUT' }).catch(() => {});
    await fetch(`${stack.config.consul.address}/v1/kv/${weightKey(name)}`, { method: 'DELETE' }).catch(() => {});
    server.close();
  });

  it('shows the live table beside the expected one, with the weight from the service key, and names a missing route', async function () {
    const fabio = fabioApi();
    await applyCanaryWeight(stack.clients.consul, fabio, 0.25, { service: name, routeTags: [route], minCanaries: 1 });
    const job = {
      ID: name,
      TaskGroups: [
        { Services: [{ Name: name, Provider: 'consul', Tags: [route, `urlprefix-/${name}-admin strip=/${name}-admin`] }] },
        { Services: [{ Name: `${name}-nomad`, Provider: 'nomad', Tags: [`urlprefix-/${name}-x`] }] },
      ],
    };
    const report = await routesReport(stack.clients.consul, fabio, [job]);
    expect(report.expected).to.deep.equal([{ service: name, sources: [`/${name}`, `/${name}-admin`], canaryWeight: 0.25 }]);
    expect(report.differences).to.deep.equal([`${name}: /${name}-admin: no live route for ${name}`]);
    expect(report.lines[0]).to.equal(`${name}  expected: /${name}, /${name}-admin canary 25.0 %  DIFFERS`);
    expect(report.lines.filter((l) => l.includes('25.0 %  [canary]'))).to.have.length(1);
    expect(report.lines.filter((l) => l.includes('75.0 %'))).to.have.length(1);

    const ok = await routesReport(stack.clients.consul, fabio, [{ TaskGroups: [{ Services: [{ Name: name, Tags: [route] }] }] }]);
    expect(ok.differences).to.deep.equal([]);

    await removeCanaryWeight(stack.clients.consul, fabio, { service: name, routeTags: [route] });
    const after = await routesReport(stack.clients.consul, fabio, [{ TaskGroups: [{ Services: [{ Name: name, Tags: [route] }] }] }]);
    expect(after.expected[0]?.canaryWeight).to.equal(undefined);
    expect(after.differences).to.deep.equal([]);
  });
});
