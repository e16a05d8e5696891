/**
 * TLS and headers of the three clients, built as every run builds them
 * (createClients), against a real HTTPS listener, with a CA,
 * a server certificate and a client certificate made by openssl in the test.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClients } from '../../src/clients.js';
import { resolveConfig, type Env } from '../../src/config/index.js';
import { consulCall } from '../../src/consul/client.js';
import { ServerError } from '../../src/errors.js';
import { vaultCall } from '../../src/vault/client.js';

interface Seen {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  clientCert: boolean;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA, a server certificate for "hashiship.test" (no IP SAN), and a client certificate. */
function makePki(dir: string): void {
  openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=hashiship test CA');
  openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=hashiship.test');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:hashiship.test\n');
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'san.ext',
  );
  openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=hashiship client');
  openssl(dir, 'x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.pem', '-days', '2');
}

describe('config: TLS against a real HTTPS listener', function () {
  this.timeout(30_000);
  let dir: string;
  let server: https.Server;
  let base: string;
  const seen: Seen[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hashiship-pki-'));
    makePki(dir);
    server = https.createServer(
      {
        key: readFileSync(join(dir, 'server.key')),
        cert: readFileSync(join(dir, 'server.pem')),
        ca: readFileSync(join(dir, 'ca.pem')),
        requestCert: true,
        rejectUnauthorized: false, // recorded below instead, so both cases can be seen
      },
      (req, res) => {
        const sock = req.socket as import('node:tls').TLSSocket;
        seen.push({ path: req.url ?? '', headers: req.headers, clientCert: sock.authorized });
        res.setHeader('Content-Type', 'application/json');
        if (req.url?.startsWith('/v1/sys/health')) res.end('{"initialized":true,"sealed":false}');
        else res.end('"127.0.0.1:8300"');
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    seen.length = 0;
  });

  const cfg = (env: Env) => resolveConfig({ env, home: '/nonexistent' });
  const tlsEnv = (prefix: string, extra: Env = {}): Env => ({
    [`${prefix}_CACERT`]: join(dir, 'ca.pem'),
    [`${prefix}_TLS_SERVER_NAME`]: 'hashiship.test',
    ...extra,
  });

  it('Nomad: trusts the CA, checks the server name, sends token, region and namespace', async () => {
    const c = cfg({ NOMAD_ADDR: base, NOMAD_TOKEN: 'nomad-secret', NOMAD_REGION: 'eu', NOMAD_NAMESPACE: 'team', ...tlsEnv('NOMAD') });
    expect(await createClients(c).nomad.client.leader()).to.equal('127.0.0.1:8300');
    expect(seen[0]!.path).to.equal('/v1/status/leader?region=eu&namespace=team');
    expect(seen[0]!.headers['x-nomad-token']).to.equal('nomad-secret');
    expect(seen[0]!.clientCert).to.equal(false);
  });

  it('Nomad: presents the client certificate', async () => {
    const c = cfg({
      NOMAD_ADDR: base,
      ...tlsEnv('NOMAD', { NOMAD_CLIENT_CERT: join(dir, 'client.pem'), NOMAD_CLIENT_KEY: join(dir, 'client.key') }),
    });
    await createClients(c).nomad.client.leader();
    expect(seen[0]!.clientCert).to.equal(true);
  });

  it('Nomad: trusts a CA directory (NOMAD_CAPATH)', async () => {
    const capath = mkdtempSync(join(tmpdir(), 'hs-capath-'));
    writeFileSync(join(capath, 'ca.pem'), readFileSync(join(dir, 'ca.pem')));
    const c = cfg({ NOMAD_ADDR: base, NOMAD_CAPATH: capath, NOMAD_TLS_SERVER_NAME: 'hashiship.test' });
    expect(await createClients(c).nomad.client.leader()).to.equal('127.0.0.1:8300');
  });

  it('Nomad: without the CA the certificate is refused (exit 2, address named, token absent)', async () => {
    const c = cfg({ NOMAD_ADDR: base, NOMAD_TOKEN: 'nomad-secret', NOMAD_TLS_SERVER_NAME: 'hashiship.test' });
    const err = await createClients(c)
      .nomad.client.leader()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(ServerError);
    const e = err as ServerError;
    expect(e.exitCode).to.equal(2);
    expect(e.describe()).to.match(/^nomad: status\.leader: cannot connect \(/);
    expect(e.describe()).to.include(base);
    expect(e.describe()).not.to.include('nomad-secret');
  });

  it('Nomad: without the server name the IP does not match the certificate', async () => {
    const c = cfg({ NOMAD_ADDR: base, NOMAD_CACERT: join(dir, 'ca.pem') });
    const err = await createClients(c)
      .nomad.client.leader()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(ServerError);
    expect((err as ServerError).describe()).to.include('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('Nomad: NOMAD_SKIP_VERIFY=true connects without the CA, =false does not', async () => {
    expect(await createClients(cfg({ NOMAD_ADDR: base, NOMAD_SKIP_VERIFY: 'true' })).nomad.client.leader()).to.equal('127.0.0.1:8300');
    const err = await createClients(cfg({ NOMAD_ADDR: base, NOMAD_SKIP_VERIFY: 'false' }))
      .nomad.client.leader()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(ServerError);
  });

  it('Consul: https address, CA, server name, token header and client certificate', async () => {
    const c = cfg({
      CONSUL_HTTP_ADDR: base,
      CONSUL_HTTP_TOKEN: 'consul-secret',
      ...tlsEnv('CONSUL', { CONSUL_CLIENT_CERT: join(dir, 'client.pem'), CONSUL_CLIENT_KEY: join(dir, 'client.key') }),
    });
    const consul = createClients(c).consul.client.api;
    const leader = await consulCall(c.consul, 'status.leader', () => consul.status.leader());
    expect(leader).to.equal('127.0.0.1:8300');
    expect(seen[0]!.headers['x-consul-token']).to.equal('consul-secret');
    expect(seen[0]!.clientCert).to.equal(true);
  });

  it('Consul: CONSUL_HTTP_SSL_VERIFY=true without the CA refuses the certificate', async () => {
    const c = cfg({ CONSUL_HTTP_ADDR: base, CONSUL_HTTP_SSL_VERIFY: 'true', CONSUL_HTTP_TOKEN: 'consul-secret' });
    const consul = createClients(c).consul.client.api;
    const err = await consulCall(c.consul, 'status.leader', () => consul.status.leader()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ServerError);
    expect((err as ServerError).message).to.match(/^consul: status\.leader: /);
    expect((err as ServerError).describe()).not.to.include('consul-secret');
  });

  it('Vault: CA, server name, client certificate, token and namespace headers', async () => {
    const c = cfg({
      VAULT_ADDR: base,
      VAULT_TOKEN: 'vault-secret',
      VAULT_NAMESPACE: 'admin',
      ...tlsEnv('VAULT', { VAULT_CLIENT_CERT: join(dir, 'client.pem'), VAULT_CLIENT_KEY: join(dir, 'client.key') }),
    });
    const vault = createClients(c).vault.client.api;
    const h = (await vaultCall(c.vault, 'sys.health', 'sys/health', () => vault.health())) as { sealed: boolean };
    expect(h.sealed).to.equal(false);
    expect(seen[0]!.headers['x-vault-token']).to.equal('vault-secret');
    expect(seen[0]!.headers['x-vault-namespace']).to.equal('admin');
    expect(seen[0]!.clientCert).to.equal(true);
  });

  it('Vault: VAULT_SKIP_VERIFY=false keeps verification on (node-vault alone would skip)', async () => {
    const before = process.env['VAULT_SKIP_VERIFY'];
    process.env['VAULT_SKIP_VERIFY'] = 'false'; // what node-vault reads on its own
    try {
      const c = cfg({ VAULT_ADDR: base, VAULT_SKIP_VERIFY: 'false', VAULT_TOKEN: 'vault-secret' });
      const vault = createClients(c).vault.client.api;
      const err = await vaultCall(c.vault, 'sys.health', 'sys/health', () => vault.health()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(ServerError);
      expect((err as ServerError).describe()).not.to.include('vault-secret');
    } finally {
      if (before === undefined) delete process.env['VAULT_SKIP_VERIFY'];
      else process.env['VAULT_SKIP_VERIFY'] = before;
    }
  });

  it('Vault: ignores VAULT_ADDR and VAULT_TOKEN in the process environment', async () => {
    const saved = { a: process.env['VAULT_ADDR'], t: process.env['VAULT_TOKEN'] };
    process.env['VAULT_ADDR'] = 'http://127.0.0.1:1';
    process.env['VAULT_TOKEN'] = 'from-process-env';
    try {
      const c = cfg({ VAULT_ADDR: base, ...tlsEnv('VAULT') });
      await vaultCall(c.vault, 'sys.health', 'sys/health', () => createClients(c).vault.client.api.health());
      expect(seen[0]!.headers['x-vault-token']).to.equal(undefined);
    } finally {
      for (const [k, v] of [
        ['VAULT_ADDR', saved.a],
        ['VAULT_TOKEN', saved.t],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('an unreachable server is exit 2 naming the address and the operation', async () => {
    const c = cfg({ NOMAD_ADDR: 'http://127.0.0.1:1', NOMAD_TOKEN: 'nomad-secret' });
    const err = await createClients(c)
      .nomad.client.agentSelf()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(ServerError);
    expect((err as ServerError).exitCode).to.equal(2);
    expect((err as ServerError).describe()).to.equal('nomad: agent.self: cannot connect (connection refused)\n  Address: http://127.0.0.1:1');
  });
});
