/**
 * Clients are built one way (issue 11 §5): `createClients(config)` makes one root
 * client per server with its areas on that one connection, and the command runner
 * builds them once per run from the configuration it resolved (defaults → env →
 * flags), so every request of a command goes to the server its flags name.
 * No request is sent: the addresses point at closed ports.
 */
import { expect } from 'chai';
import { Command } from 'commander';
import { createClients, type Clients } from '../../src/clients.js';
import { resolveConfig } from '../../src/config/index.js';
import { serverFlags } from '../../src/commands/flags.js';
import { attachSession, run } from '../../src/commands/runner.js';
import { ExitCode, GateError, InputError, ServerError } from '../../src/errors.js';
import { redactorFromEnv } from '../../src/redact.js';
import { resolveCredentials } from '../../src/registry/auth.js';
import { blobRef } from '../../src/registry/ref.js';

const env = {
  NOMAD_ADDR: 'http://127.0.0.1:1',
  CONSUL_HTTP_ADDR: '127.0.0.1:2',
  VAULT_ADDR: 'http://127.0.0.1:3',
  VAULT_TOKEN: 'hvs.unit-test-token-000000000',
};

describe('clients: one root client per server, built once per run', () => {
  it('hangs every area of a server on its one connection, built from the configuration', () => {
    const config = resolveConfig({ env, home: '/nonexistent' });
    const c = createClients(config);
    expect(c.nomad.jobs.client).to.equal(c.nomad.client);
    expect(c.nomad.client.config.address).to.equal('http://127.0.0.1:1');
    for (const area of [c.consul.kv, c.consul.health, c.consul.services, c.consul.maintenance]) expect(area.client).to.equal(c.consul.client);
    expect(c.consul.serviceConfig.kv).to.equal(c.consul.kv);
    expect(c.consul.client.config.address).to.equal('http://127.0.0.1:2');
    expect(c.vault.kv.client).to.equal(c.vault.client);
    expect(c.vault.client.config.address).to.equal('http://127.0.0.1:3');
    expect(c.vault.client.api.token).to.equal('hvs.unit-test-token-000000000');
  });

  it('the runner builds them once per run, from the flags over the environment', async () => {
    const program = new Command().exitOverride();
    const seen: Clients[] = [];
    serverFlags(program.command('probe'), ['nomad', 'consul']).action(
      run(async (c) => {
        seen.push(await c.clients(), await c.clients());
      }),
    );
    attachSession(program, { env, stdout: () => {}, stderr: () => {}, redactor: redactorFromEnv(env) });
    await program.parseAsync(['probe', '--consul-addr', 'http://127.0.0.1:4'], { from: 'user' });
    expect(seen).to.have.length(2);
    expect(seen[1]).to.equal(seen[0]);
    expect(seen[0]!.consul.client.config.address).to.equal('http://127.0.0.1:4');
    expect(seen[0]!.nomad.client.config.address).to.equal('http://127.0.0.1:1');
  });
});

describe('clients: the registries root client (areas by reference) and derived Vault clients', () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  const failureOf = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => e,
    );

  it('shares one client per registry host between every area and call', () => {
    const { registries } = createClients(resolveConfig({ env, home: '/nonexistent' }));
    expect(registries.host('127.0.0.1:9')).to.equal(registries.host('127.0.0.1:9'));
    expect(registries.host('127.0.0.1:9')).to.not.equal(registries.host('127.0.0.1:10'));
    expect(registries.host('127.0.0.1:9').server).to.equal('registry 127.0.0.1:9');
  });

  it('sends each request to the host its reference names (a closed port: a server error naming it)', async () => {
    const { registries } = createClients(resolveConfig({ env, home: '/nonexistent' }));
    for (const [operation, p] of [
      ['ping', registries.manifests.get('127.0.0.1:9/team/app:1')],
      ['ping', registries.manifests.head({ registry: '127.0.0.1:9', repository: 'team/app', digest })],
      ['ping', registries.blobs.head(`127.0.0.1:9/team/app@${digest}`)],
    ] as const) {
      const err = await failureOf(p);
      expect(err).to.be.instanceOf(ServerError);
      expect((err as ServerError).message).to.match(new RegExp(`^registry 127\\.0\\.0\\.1:9: ${operation}: `));
    }
  });

  it('a blob reference names its digest; a bad one is refused before any request (exit 1)', async () => {
    expect(blobRef(`127.0.0.1:5001/team/app:1@${digest}`)).to.deep.equal({ registry: '127.0.0.1:5001', repository: 'team/app', digest });
    expect(() => blobRef('127.0.0.1:5001/team/app:1'))
      .to.throw(InputError)
      .with.property('message')
      .that.includes('expected registry/repository@sha256:<64 hex>');
    const { registries } = createClients(resolveConfig({ env, home: '/nonexistent' }));
    const err = await failureOf(registries.blobs.get('127.0.0.1:9/team/app:1'));
    expect(err).to.be.instanceOf(InputError);
    expect((err as InputError).exitCode).to.equal(ExitCode.badInput);
  });

  it("reads registry credentials at a _VAULT_PATH only through the run's Vault client", async () => {
    const config = resolveConfig({
      env: { ...env, HASHISHIP_REGISTRY_PROD: 'http://127.0.0.1:9', HASHISHIP_REGISTRY_PROD_VAULT_PATH: 'secret/registry/prod' },
      home: '/nonexistent',
    });
    const err = await failureOf(resolveCredentials('127.0.0.1:9', { config }));
    expect(err).to.be.instanceOf(GateError);
    expect((err as GateError).message).to.equal('registry: HASHISHIP_REGISTRY_PROD_VAULT_PATH names secret/registry/prod but no Vault is configured');
    // With the run's clients, the read goes to the configured Vault (a closed port here).
    const viaVault = await failureOf(resolveCredentials('127.0.0.1:9', { config, vault: createClients(config).vault }));
    expect(viaVault).to.be.instanceOf(ServerError);
    expect((viaVault as ServerError).message).to.match(/^vault: /);
  });

  it('derives a Vault client with another token from the root one, leaving the root its own', () => {
    const { vault } = createClients(resolveConfig({ env, home: '/nonexistent' }));
    const session = vault.client.withToken('hvs.session-token-0000000000', 'approle');
    expect(session).to.not.equal(vault.client);
    expect(session.api).to.not.equal(vault.client.api);
    expect(session.config).to.include({ address: 'http://127.0.0.1:3', token: 'hvs.session-token-0000000000', tokenSource: 'approle' });
    expect(session.api.token).to.equal('hvs.session-token-0000000000');
    expect(vault.client.api.token).to.equal('hvs.unit-test-token-000000000');
    const anonymous = vault.client.withToken(undefined, 'none');
    expect(anonymous.config).to.not.have.property('token');
    expect(anonymous.api.token).to.equal(undefined);
  });
});
