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
import { redactorFromEnv } from '../../src/redact.js';

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
