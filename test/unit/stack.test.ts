/**
 * The stack's start-up failures are real processes that fail: the message names
 * the component and shows the tail of its log, and no wait is unbounded.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StackError } from '../../src/errors.js';
import { collecting } from '../../src/log.js';
import { addressOf, components, nomadDevConfig, type ComponentDef } from '../../src/stack/components.js';
import { dockerDaemonConfig } from '../../src/stack/docker.js';
import { alive, mountsUnder, removeTree, run } from '../../src/stack/proc.js';
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
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
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
    const err = await startComponent(
      fakeDef('echo "still booting"; exec sleep 60'),
      '/bin/sh',
      dir,
      { vaultToken: 'x' },
      {
        timeoutMs: 1500,
        log,
      },
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
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
    // The docker CLI talks to the stack's own engine, never the system socket.
    expect(script).to.include(`export DOCKER_HOST=unix://${join(dir, 'docker', 'docker.sock')}`);
  });

  it("the engine's daemon.json keeps everything in the state folder and off the host network", () => {
    const c = JSON.parse(dockerDaemonConfig(dir)) as Record<string, unknown>;
    expect(c['data-root']).to.equal(join(dir, 'docker', 'data'));
    expect(c['exec-root']).to.equal(join(dir, 'docker', 'exec'));
    expect(c['pidfile']).to.equal(join(dir, 'docker', 'docker.pid'));
    expect(c['hosts']).to.deep.equal([`unix://${join(dir, 'docker', 'docker.sock')}`]);
    expect(c).to.include({ bridge: 'none', iptables: false, 'ip-masq': false, 'ip-forward': false, ip: '127.0.0.1', 'live-restore': false });
    expect(JSON.stringify(c)).not.to.include('/var/run/docker').and.not.to.include('/var/lib/docker');
  });

  it("Nomad's docker plugin points at the stack's engine", () => {
    const hcl = nomadDevConfig(dir);
    expect(hcl).to.match(/plugin "docker" \{\n {2}config \{\n {4}endpoint\s+= "unix:\/\/[^"]+"/);
    expect(hcl).to.include(`endpoint         = "unix://${join(dir, 'docker', 'docker.sock')}"`);
    expect(hcl).to.include('allow_privileged = false');
  });

  it('every component listens on loopback only', () => {
    for (const c of components) {
      if (c.socket !== undefined) {
        // The Docker engine answers on a unix socket in the state folder only.
        expect(addressOf(c, dir), c.name).to.equal(`unix://${join(dir, c.socket)}`);
        // Flag by flag: the temporary folder's random name may itself hold `-H` (hashiship-stack-H…).
        const args = c.launch('/bin/true', dir, { vaultToken: 't' }).args;
        expect(
          args.filter((a) => a === '-H' || a.startsWith('--host') || a.includes('tcp:')),
          c.name,
        ).to.deep.equal([]);
        continue;
      }
      expect(new URL(c.address).hostname, c.name).to.equal('127.0.0.1');
      const launch = c.launch('/bin/true', dir, { vaultToken: 't' });
      const text = [...launch.args, ...Object.values(launch.files)].join('\n');
      expect(text, c.name).not.to.match(/0\.0\.0\.0|:::|addr=:\d/);
    }
    expect(nomadDevConfig(dir)).to.include('bind_addr = "127.0.0.1"');
  });
});

describe('stack: data folders a killed Nomad left mounts in', function () {
  this.timeout(30_000);

  // A Nomad client killed with SIGKILL (or by the end of a session) leaves each task's
  // secrets/ and private/ tmpfs mounted; the next `dev up` must still start afresh.
  it('removeTree detaches tmpfs mounts below the folder (deepest first), then removes it', async function () {
    const root = mkdtempSync(join(tmpdir(), 'hashiship-mounts-'));
    const data = join(root, 'nomad-data');
    const task = join(data, 'alloc', 'a1', 'web');
    for (const d of ['secrets', 'private']) mkdirSync(join(task, d), { recursive: true });
    const mounted = await Promise.all(['secrets', 'private'].map((d) => run('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', join(task, d)])));
    if (mounted.some((r) => r.code !== 0)) {
      // Mounting needs root (CI runs as root); without it there is nothing to detach.
      console.log(`      skipped: cannot mount tmpfs here (${mounted.find((r) => r.code !== 0)!.stderr.trim()})`);
      rmSync(root, { recursive: true, force: true });
      return;
    }
    writeFileSync(join(task, 'secrets', 'token'), 'x');
    expect(mountsUnder(data)).to.have.members([join(task, 'private'), join(task, 'secrets')]);
    // What `dev up` used to do: plain removal fails on the mount points.
    expect(() => rmSync(data, { recursive: true, force: true })).to.throw(/EBUSY/);
    await removeTree(data);
    expect(existsSync(data)).to.equal(false);
    expect(mountsUnder(root)).to.deep.equal([]);
    rmSync(root, { recursive: true, force: true });
  });

  it('removeTree of a missing folder is fine', async () => {
    await removeTree(join(tmpdir(), `hashiship-missing-${process.pid}`));
  });
});

describe('stack: recorded pids', () => {
  // After a reboot or a killed session the pid in stack.json may belong to another
  // program: `dev up` must neither reuse nor stop it.
  it('alive(pid, bin) holds only for a process running that executable', () => {
    expect(alive(process.pid)).to.equal(true);
    expect(alive(process.pid, process.execPath)).to.equal(true);
    expect(alive(process.pid, '/bin/sh')).to.equal(false);
    expect(alive(process.pid, '/nonexistent/consul')).to.equal(false);
  });
});
