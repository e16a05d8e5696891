/**
 * The stack's start-up failures are real processes that fail: the message names
 * the component and shows the tail of its log, and no wait is unbounded.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StackError } from '../../src/errors.js';
import { collecting } from '../../src/log.js';
import { components, nomadDevConfig, type ComponentDef } from '../../src/stack/components.js';
import { alive } from '../../src/stack/proc.js';
import { envScript, startComponent, stackEnv, vaultToken } from '../../src/stack/stack.js';

function fakeDef(script: string): ComponentDef {
  const consul = components.find((c) => c.name === 'consul')!;
  return {
    ...consul,
    address: 'http://127.0.0.1:1', // nothing listens there
    launch: () => ({ cmd: '/bin/sh', args: ['-c', script], files: {} }),
  };
}

describe('stack: start-up failures', function () {
  this.timeout(20_000);
  const dir = mkdtempSync(join(tmpdir(), 'hashiship-stack-'));

  it('a component that exits is named, with the last lines of its log', async () => {
    const log = collecting();
    const err = await startComponent(
      fakeDef('echo "starting"; echo "error: listen tcp 127.0.0.1:8500: bind: address already in use" >&2; exit 1'),
      '/bin/sh',
      dir,
      { vaultToken: 'x' },
      { timeoutMs: 10_000, log },
    ).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(StackError);
    const text = (err as StackError).describe();
    expect(text).to.match(/^stack: consul exited during start-up\n/);
    expect(text).to.include('address already in use');
    expect(text).to.include(join(dir, 'consul.log'));
    expect((err as StackError).exitCode).to.equal(2);
    expect(log.events.map((e) => e.kind)).to.deep.equal(['stack.start']);
  });

  it('a component that never gets healthy is stopped after the bound, not waited on forever', async () => {
    const log = collecting();
    const started = Date.now();
    const err = await startComponent(fakeDef('echo "still booting"; exec sleep 60'), '/bin/sh', dir, { vaultToken: 'x' }, {
      timeoutMs: 1500,
      log,
    }).then(() => undefined, (e: unknown) => e);
    expect(Date.now() - started).to.be.lessThan(10_000);
    expect(err).to.be.instanceOf(StackError);
    expect((err as StackError).describe()).to.match(/^stack: consul not healthy after 2 s\n/);
    expect((err as StackError).describe()).to.include('still booting');
    const pid = (log.events[0] as { pid: number }).pid;
    expect(alive(pid)).to.equal(false);
  });
});

describe('stack: env and configs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hashiship-stack-'));

  it('keeps one random Vault root token per state folder, mode 0600', () => {
    const t = vaultToken(dir);
    expect(t).to.match(/^hashiship-dev-[0-9a-f]{24}$/);
    expect(vaultToken(dir)).to.equal(t);
    expect(readFileSync(join(dir, 'vault-token'), 'utf8').trim()).to.equal(t);
  });

  it('dev env reads the token from its file instead of printing it', () => {
    const opts = { cacheDir: dir, stateDir: dir };
    const script = envScript(opts);
    expect(script).to.include(`export VAULT_TOKEN="$(cat ${join(dir, 'vault-token')})"`);
    expect(script).not.to.include(vaultToken(dir));
    expect(script).to.include('export NOMAD_ADDR=http://127.0.0.1:4646');
    expect(script).to.include('export HASHISHIP_REGISTRY_QA=http://127.0.0.1:5001');
    expect(stackEnv(opts)['VAULT_TOKEN']).to.equal(vaultToken(dir));
  });

  it('every component listens on loopback only', () => {
    for (const c of components) {
      expect(new URL(c.address).hostname, c.name).to.equal('127.0.0.1');
      const launch = c.launch('/bin/true', dir, { vaultToken: 't' });
      const text = [...launch.args, ...Object.values(launch.files)].join('\n');
      expect(text, c.name).not.to.match(/0\.0\.0\.0|:::|addr=:\d/);
    }
    expect(nomadDevConfig(dir)).to.include('bind_addr = "127.0.0.1"');
  });
});
