/**
 * Error paths a real Vault cannot produce on demand in the shared stack: a sealed
 * Vault (503) is exit 2 naming the path and the reason, never the token.
 */
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolveConfig } from '../../src/config/index.js';
import { ExitCode, ServerError } from '../../src/errors.js';
import { servicePolicy } from '../../src/vault/policy.js';
import { preflight } from '../../src/vault/preflight.js';
import { createClients } from '../../src/clients.js';

describe('vault pre-flight errors (stub HTTP)', () => {
  let server: http.Server;
  let address: string;

  before(async () => {
    server = http.createServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: ['Vault is sealed'] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('a sealed Vault is exit 2 naming the path, not the token', async () => {
    const token = 'hvs.do-not-print-this-token';
    const config = resolveConfig({ env: { VAULT_ADDR: address, VAULT_TOKEN: token, CONSUL_HTTP_ADDR: '127.0.0.1:1' }, home: '/nonexistent' });
    const spec = { name: 'web', groups: [{ name: 'g', tasks: [{ name: 't', secrets: [{ env: 'X', path: 'secret/data/web/db', key: 'k' }] }] }] };
    const err = await preflight(createClients(config), [servicePolicy({ spec })], { concurrency: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ServerError);
    const s = err as ServerError;
    expect(s.exitCode).to.equal(ExitCode.unreachable);
    expect(s.status).to.equal(503);
    expect(s.describe()).to.contain('sealed');
    expect(s.describe()).to.match(/Path:\s+secret\/data\/web\/db$/m);
    expect(`${s.describe()} ${String(s.stack)}`).not.to.contain(token);
  });
});
