/**
 * The stack's own Docker engine, on its own (a private state folder, not the shared
 * stack): it starts from Debian's dockerd with everything under the state folder,
 * runs a FROM-scratch container built here on host networking, and `down` leaves no
 * container, mount, process or network interface behind. A dockerd that cannot start
 * is named, with the last lines of its log.
 */
import { expect } from 'chai';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StackError } from '../../src/errors.js';
import { collecting } from '../../src/log.js';
import { components } from '../../src/stack/components.js';
import { dockerHost, dockerPaths } from '../../src/stack/docker.js';
import { ensureTool } from '../../src/stack/install.js';
import { alive, mountsUnder } from '../../src/stack/proc.js';
import { main } from '../../src/cli.js';
import { down, startComponent, stateDirOf, status } from '../../src/stack/stack.js';
import { dockerEngine } from '../../src/stack/versions.js';
import { docker, helloContext } from '../helpers/images.js';
import { freePort } from '../helpers/registry.js';
import { testStackOptions, useStack } from '../helpers/stack.js';

const engine = components.find((c) => c.name === 'docker')!;
const interfaces = () => readdirSync('/sys/class/net').sort();

/** Processes whose command line names `dir` (dockerd, containerd, shims of this engine). */
function processesUnder(dir: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe("the stack's Docker engine (private state folder)", function () {
  this.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'hashiship-engine-'));
  const host = dockerHost(dir);
  const opts = { cacheDir: testStackOptions().cacheDir, stateDir: dir };
  let bin: string;
  let netBefore: string[];
  const systemSocket = existsSync('/var/run/docker.sock');

  async function start(): Promise<{ pid: number; seconds: number }> {
    return startComponent(
      engine,
      bin,
      dir,
      { vaultToken: 'unused' },
      {
        timeoutMs: 60_000,
        log: collecting(),
        // What `up` records, so that `down` stops it.
        onPid: (pid) => writeFileSync(join(dir, 'stack.json'), JSON.stringify({ components: { docker: { pid, bin } } })),
      },
    );
  }

  before(async () => {
    bin = await ensureTool(dockerEngine, { cacheDir: opts.cacheDir });
    netBefore = interfaces();
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts dockerd with its roots and socket in the state folder, healthy on /_ping', async () => {
    const { seconds } = await start();
    console.log(`      dockerd healthy in ${seconds.toFixed(2)} s`);
    const info = JSON.parse(await docker(host, ['info', '--format', '{{json .}}'])) as Record<string, unknown>;
    expect(info['DockerRootDir']).to.equal(dockerPaths(dir).data);
    expect(info['Driver']).to.equal('overlay2');
    const rows = await status(opts);
    const row = rows.find((r) => r.component === 'docker')!;
    expect(row).to.include({ healthy: true, owner: 'started', address: host });
    expect(row.version).to.match(/^20\.10\./);
    // The system's engine is neither started nor used.
    expect(existsSync('/var/run/docker.sock')).to.equal(systemSocket);
    // No docker0 bridge or any other interface appeared.
    expect(interfaces()).to.deep.equal(netBefore);
  });

  it('runs a FROM-scratch image of a static binary built here, on host networking bound to 127.0.0.1', async () => {
    const context = await helloContext();
    const t0 = Date.now();
    await docker(host, ['build', '--quiet', '--build-arg', 'VERSION=engine-1', '--tag', 'hello:engine', context]);
    console.log(`      FROM-scratch image built in ${((Date.now() - t0) / 1000).toFixed(2)} s`);
    const port = await freePort();
    await docker(host, ['run', '--detach', '--name', 'web', '--network', 'host', '--env', `ADDR=127.0.0.1:${port}`, 'hello:engine']);
    // And one with no network at all (the default without a bridge): a namespace to clean up.
    await docker(host, ['run', '--detach', '--name', 'isolated', '--env', 'ADDR=127.0.0.1:8080', 'hello:engine']);
    let body = '';
    for (let i = 0; i < 50 && body === ''; i++) {
      body = await fetch(`http://127.0.0.1:${port}/`).then(
        (r) => r.text(),
        () => '',
      );
      if (body === '') await new Promise((r) => setTimeout(r, 100));
    }
    expect(body).to.match(/^hello engine-1 /);
    expect((await docker(host, ['ps', '--quiet'])).trim().split('\n')).to.have.length(2);
    expect(mountsUnder(dir).length).to.be.greaterThan(0);
  });

  it('`down` removes the containers, stops dockerd and its containerd, and leaves no mount or interface', async () => {
    const log = collecting();
    const r = await down({ ...opts, log });
    expect(r.stopped).to.deep.equal(['docker']);
    expect(processesUnder(dir)).to.deep.equal([]);
    expect(mountsUnder(dir)).to.deep.equal([]);
    expect(interfaces()).to.deep.equal(netBefore);
    expect(existsSync(dockerPaths(dir).exec)).to.equal(false);
    // Started again on the same data root: the containers are gone, not merely stopped;
    // the image stays cached.
    const { pid } = await start();
    expect((await docker(host, ['ps', '--all', '--quiet'])).trim()).to.equal('');
    expect((await docker(host, ['images', '--quiet', 'hello:engine'])).trim()).not.to.equal('');
    await down(opts);
    expect(alive(pid)).to.equal(false);
    expect(mountsUnder(dir)).to.deep.equal([]);
  });

  it('a dockerd that cannot start is named, with the last lines of its log', async () => {
    // Another engine holds the pid file (a live pid): dockerd refuses to start.
    mkdirSync(dockerPaths(dir).root, { recursive: true });
    writeFileSync(dockerPaths(dir).pidfile, String(process.pid));
    const err = await start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(StackError);
    const text = (err as StackError).describe();
    expect(text).to.match(/^stack: docker exited during start-up\n/);
    expect(text).to.include(join(dir, 'docker.log'));
    expect(text).to.include('pid file found');
    expect((err as StackError).exitCode).to.equal(2);
    rmSync(dockerPaths(dir).pidfile);
    expect(processesUnder(dir)).to.deep.equal([]);
    // It had mounted its data root before giving up: detached again.
    expect(mountsUnder(dir)).to.deep.equal([]);
  });
});

describe('`dev up` when the engine cannot start (the rest of the stack is running)', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'hashiship-noengine-'));
  const saved = process.env['HASHISHIP_STACK_DIR'];

  before(async function () {
    this.timeout(90 * 60_000);
    const stack = await useStack();
    // A second state folder for the same running stack: Consul, Vault, Nomad, Fabio and
    // the registries answer (and are reused, not ours); the engine of this folder is not
    // running, and another process holds its pid file, so dockerd refuses to start.
    copyFileSync(join(stateDirOf(stack.options), 'vault-token'), join(dir, 'vault-token'));
    mkdirSync(dockerPaths(dir).root, { recursive: true });
    writeFileSync(dockerPaths(dir).pidfile, String(process.pid));
    process.env['HASHISHIP_STACK_DIR'] = dir;
  });

  after(() => {
    if (saved === undefined) delete process.env['HASHISHIP_STACK_DIR'];
    else process.env['HASHISHIP_STACK_DIR'] = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits 2 naming the engine with its log, and says what still runs', async () => {
    let err = '';
    const w = process.stderr.write.bind(process.stderr);
    const wo = process.stdout.write.bind(process.stdout);
    process.stderr.write = ((c: string | Uint8Array) => ((err += String(c)), true)) as typeof process.stderr.write;
    process.stdout.write = ((c: string | Uint8Array) => ((err += String(c)), true)) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main(['dev', 'up']);
    } finally {
      process.stderr.write = w;
      process.stdout.write = wo;
    }
    expect(code, err).to.equal(2);
    expect(err).to.include('stack: docker exited during start-up');
    expect(err).to.include(join(dir, 'docker.log'));
    expect(err).to.include('pid file found');
    expect(err).to.match(/Still running: +consul, vault, registry-qa, registry-production, nomad, fabio/);
    expect(err).to.include('tasks on the docker driver cannot be placed');
    // And it is true: the rest answers.
    const rows = await status({ cacheDir: testStackOptions().cacheDir, stateDir: dir });
    for (const r of rows) expect(r.healthy, r.component).to.equal(r.component !== 'docker');
    expect(processesUnder(dir)).to.deep.equal([]);
    expect(mountsUnder(dir)).to.deep.equal([]);
  });
});
