/**
 * Copy by digest between the stack's real registries (docker-registry 2.8: QA on
 * 127.0.0.1:5001, production on :5002). Images are built and pushed through the
 * registry API with `pushImage`; every repository is unique to the run and its
 * manifests are deleted afterwards.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClients } from '../../src/clients.js';
import { resolveConfig } from '../../src/config/index.js';
import { ExitCode, GateError, ServerError } from '../../src/errors.js';
import { collecting } from '../../src/log.js';
import { MediaType } from '../../src/registry/manifests.js';
import { copyImage, parseImageRef, pushImage, resolveDigest, writeRandomLayer, type PlatformImage, type RegistryClients } from '../../src/registry/index.js';
import { ensureTool } from '../../src/stack/install.js';
import { stateDirOf } from '../../src/stack/stack.js';
import { registry as registryTool } from '../../src/stack/versions.js';
import { failureOf, freePort, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { useStack, type TestStack } from '../helpers/stack.js';
import { cli } from '../helpers/vault.js';

const run = randomBytes(3).toString('hex');
const QA = '127.0.0.1:5001';
const PROD = '127.0.0.1:5002';
const repo = (name: string) => `hs-reg-${run}/${name}`;

/** Two platforms, five layers each, contents unique to the run and to `salt`. */
function multiArch(salt: string): PlatformImage[] {
  return ['amd64', 'arm64'].map((architecture) => ({
    os: 'linux',
    architecture,
    config: { Cmd: ['/app/run.sh'], Env: [`SALT=${salt}`] },
    layers: Array.from({ length: 5 }, (_, i) => ({
      files: { [`app/layer${i}.txt`]: `${architecture} layer ${i} ${run} ${salt}\n`, 'app/run.sh': { contents: `#!/bin/sh\necho ${salt}\n`, mode: 0o755 } },
    })),
  }));
}

describe('registry copy by digest (real docker-registry 2.8, QA → production)', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let clients: RegistryClients;
  const cleanup: string[] = [];

  before(async function () {
    this.timeout(600_000);
    stack = await useStack();
    clients = createClients(stack.config).registries;
  });

  after(async function () {
    // Untag: delete every manifest the run pushed (blobs stay until the registry's GC).
    for (const ref of cleanup) {
      const r = parseImageRef(ref);
      const m = await clients.manifests.get(r).catch(() => undefined);
      if (m === undefined) continue;
      const digests = [m.digest, ...(m.manifest.kind === 'index' ? m.manifest.manifests.map((d) => d.digest) : [])];
      for (const d of digests) {
        await fetch(`http://${r.registry}/v2/${r.repository}/manifests/${d}`, { method: 'DELETE' }).catch(() => {});
      }
    }
  });

  const push = async (ref: string, platforms: PlatformImage[], format: 'oci' | 'docker' = 'oci') => {
    cleanup.push(ref);
    return pushImage(ref, { platforms, format, clients });
  };

  it('copies a two-platform OCI index with five layers each; digests equal; a second copy transfers nothing', async function () {
    const src = `${QA}/${repo('multi')}:1`;
    const dst = `${PROD}/${repo('multi')}:1`;
    const pushed = await push(src, multiArch('a'));
    expect(pushed.mediaType).to.equal(MediaType.ociIndex);
    expect(pushed.platforms).to.have.length(2);
    cleanup.push(dst);

    const log = collecting();
    const r = await copyImage(src, dst, { clients, log, heartbeatMs: 1 });
    expect(r.digest).to.equal(pushed.digest);
    expect(r.mediaType).to.equal(MediaType.ociIndex);
    // Heartbeats while blobs move (every 30 s by default; 1 ms here).
    const beats = log.events.filter((e) => e.kind === 'heartbeat');
    expect(beats.length).to.be.greaterThan(0);
    expect(beats[0])
      .to.have.property('waitingFor')
      .that.matches(/^copy to 127\.0\.0\.1:5002\/hs-reg-[0-9a-f]+\/multi: \d+ of 12 blobs, \d+ of \d+ bytes$/);
    // 2 × 5 layers + 2 configs, all streamed; 2 child manifests and the index pushed.
    expect(r.blobs).to.deep.equal({ copied: 12, mounted: 0, skipped: 0 });
    expect(r.manifests).to.deep.equal({ pushed: 3, skipped: 0 });
    expect(r.tagged).to.deep.equal({ tag: '1', action: 'created' });
    expect(r.bytes).to.equal(pushed.bytes);
    expect(await resolveDigest(dst, { clients })).to.equal(pushed.digest);
    // The children exist by digest at the destination, byte for byte.
    for (const p of pushed.platforms) {
      const child = await clients.manifests.get(`${PROD}/${repo('multi')}@${p.digest}`);
      expect(child?.digest).to.equal(p.digest);
      for (const l of p.layers) expect(await clients.blobs.head(`${PROD}/${repo('multi')}@${l}`)).to.be.a('number');
    }
    // Children were pushed before the index that lists them.
    const order = log.events.filter((e) => e.kind === 'registry.manifest').map((e) => (e.kind === 'registry.manifest' ? e.digest : ''));
    expect(order.at(-1)).to.equal(pushed.digest);

    // Same tag again: nothing to do.
    const again = await copyImage(src, dst, { clients });
    expect(again).to.include({ digest: pushed.digest, bytes: 0 });
    expect(again.blobs).to.deep.equal({ copied: 0, mounted: 0, skipped: 0 });
    expect(again.tagged).to.deep.equal({ tag: '1', action: 'unchanged' });

    // Another tag in the same destination repository: every blob and child is already there.
    const other = `${PROD}/${repo('multi')}:also`;
    cleanup.push(other);
    const second = await copyImage(src, other, { clients });
    expect(second.digest).to.equal(pushed.digest);
    expect(second.blobs).to.deep.equal({ copied: 0, mounted: 0, skipped: 12 });
    expect(second.bytes).to.equal(0);
    expect(second.manifests).to.deep.equal({ pushed: 1, skipped: 2 });
  });

  it('copies a Docker manifest list (schema 2) by digest reference, keeping its media type', async function () {
    const src = `${QA}/${repo('docker')}:7`;
    const pushed = await push(src, multiArch('docker'), 'docker');
    expect(pushed.mediaType).to.equal(MediaType.dockerManifestList);
    const dst = `${PROD}/${repo('docker')}:7`;
    cleanup.push(dst);
    const r = await copyImage(`${QA}/${repo('docker')}@${pushed.digest}`, dst, { clients });
    expect(r.digest).to.equal(pushed.digest);
    const head = await clients.manifests.head(dst);
    expect(head).to.include({ digest: pushed.digest, mediaType: MediaType.dockerManifestList });
    const child = await clients.manifests.get(`${PROD}/${repo('docker')}@${pushed.platforms[1]!.digest}`);
    expect(child?.mediaType).to.equal(MediaType.dockerManifest);
    // The exact bytes put under a tag of their own keep their digest.
    const arm = `${PROD}/${repo('docker')}:arm`;
    cleanup.push(arm);
    expect(await clients.manifests.put(arm, child!)).to.equal(pushed.platforms[1]!.digest);
    expect(await clients.manifests.head(arm)).to.include({ digest: pushed.platforms[1]!.digest, mediaType: MediaType.dockerManifest });
  });

  it('mounts blobs within one registry: no blob bytes sent', async function () {
    const src = `${QA}/${repo('mount-src')}:1`;
    const pushed = await push(src, multiArch('mount'));
    const dst = `${QA}/${repo('mount-dst')}:1`;
    cleanup.push(dst);
    const log = collecting();
    const r = await copyImage(src, dst, { clients, log });
    expect(r.digest).to.equal(pushed.digest);
    expect(r.blobs).to.deep.equal({ copied: 0, mounted: 12, skipped: 0 });
    expect(r.bytes).to.equal(0);
    expect(log.events.filter((e) => e.kind === 'registry.blob' && e.action === 'copied')).to.have.length(0);
    // The mounted blobs are served from the new repository.
    for (const l of pushed.platforms[0]!.layers) expect(await clients.blobs.head(`${QA}/${repo('mount-dst')}@${l}`)).to.be.a('number');
    expect(await resolveDigest(dst, { clients })).to.equal(pushed.digest);
  });

  it('existing destination tag: same digest is success, another digest is refused (exit 6) unless forced', async function () {
    const src = `${QA}/${repo('tags')}:5`;
    const dst = `${PROD}/${repo('tags')}:5`;
    const a = await push(src, multiArch('tag-a'));
    const b = await push(dst, multiArch('tag-b'));
    expect(a.digest).to.not.equal(b.digest);

    const refused = await failureOf(copyImage(src, dst, { clients }));
    expect(refused).to.be.instanceOf(GateError);
    expect((refused as GateError).exitCode).to.equal(ExitCode.gate);
    expect((refused as GateError).describe())
      .to.include(b.digest)
      .and.include(a.digest)
      .and.include('--force');
    // Nothing was written: the tag still points at b, and a's layers were not sent.
    expect(await resolveDigest(dst, { clients })).to.equal(b.digest);
    expect(await clients.blobs.head(`${PROD}/${repo('tags')}@${a.platforms[0]!.layers[0]!}`)).to.equal(undefined);

    const forced = await copyImage(src, dst, { clients, force: true });
    expect(forced.tagged).to.deep.equal({ tag: '5', action: 'overwritten', previous: b.digest });
    expect(await resolveDigest(dst, { clients })).to.equal(a.digest);

    // Now the tag points at the same digest: success, nothing written (immutable-tag registries).
    const same = await copyImage(src, dst, { clients });
    expect(same.tagged).to.deep.equal({ tag: '5', action: 'unchanged' });
    expect(same.bytes).to.equal(0);
  });

  for (const socketPipe of [true, false]) {
    it(`detects a corrupted blob while streaming (${socketPipe ? 'socket pipe' : 'axios stream'}): names the digest, tags nothing, stores nothing`, async function () {
      const src = `${QA}/${repo(`corrupt-${socketPipe}`)}:1`;
      const pushed = await push(src, [
        { os: 'linux', architecture: 'amd64', layers: [{ files: { 'a.txt': `good ${run} ${socketPipe}` } }, { files: { 'b.bin': randomBytes(200_000) } }] },
      ]);
      const victim = pushed.platforms[0]!.layers[1]!;
      // The registry's filesystem storage: blobs/sha256/<2 hex>/<hex>/data.
      const hex = victim.slice('sha256:'.length);
      const file = join(stateDirOf(stack.options), 'registry-qa-data', 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
      const original = await readFile(file);
      const fh = await open(file, 'r+');
      try {
        // Same length, different bytes in the middle: only the digest can tell.
        await fh.write(Buffer.from('corrupted by the test'), 0, 21, Math.floor(original.length / 2));
      } finally {
        await fh.close();
      }
      const dst = `${PROD}/${repo(`corrupt-${socketPipe}`)}:1`;
      try {
        const failure = await failureOf(copyImage(src, dst, { clients, socketPipe }));
        expect(failure).to.be.instanceOf(ServerError);
        expect((failure as ServerError).message)
          .to.include(victim)
          .and.include('corrupt');
        expect((failure as ServerError).exitCode).to.equal(ExitCode.unreachable);
        expect(await clients.manifests.head(dst)).to.equal(undefined);
        expect(await clients.blobs.head(`${PROD}/${repo(`corrupt-${socketPipe}`)}@${victim}`)).to.equal(undefined);
      } finally {
        await writeFile(file, original);
      }
      // Restored, the same copy succeeds.
      cleanup.push(dst);
      expect((await copyImage(src, dst, { clients, socketPipe })).digest).to.equal(pushed.digest);
    });
  }

  it('pushes a layer from a file in chunks (POST → PATCH… → PUT) and serves it back intact', async function () {
    const dir = await mkdtemp(join(tmpdir(), 'hs-reg-'));
    try {
      const path = join(dir, 'layer.tar.gz');
      await writeRandomLayer(path, 700_000);
      const size = (await stat(path)).size;
      const src = `${QA}/${repo('chunked')}:1`;
      cleanup.push(src);
      const pushed = await pushImage(src, { clients, chunkSize: 64 * 1024, platforms: [{ os: 'linux', architecture: 'amd64', layers: [{ path }] }] });
      expect(pushed.mediaType).to.equal(MediaType.ociManifest);
      const layer = pushed.platforms[0]!.layers[0]!;
      expect(await clients.blobs.head(`${QA}/${repo('chunked')}@${layer}`)).to.equal(size);
      const { stream } = await clients.blobs.get(`${QA}/${repo('chunked')}@${layer}`);
      const parts: Buffer[] = [];
      for await (const c of stream) parts.push(c as Buffer);
      expect(Buffer.concat(parts).equals(await readFile(path))).to.equal(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a missing source image is a server error naming it (exit 2)', async function () {
    const ref = `${QA}/${repo('absent')}:nope`;
    const failure = await failureOf(copyImage(ref, `${PROD}/${repo('absent')}:nope`, { clients }));
    expect(failure).to.be.instanceOf(ServerError);
    expect((failure as ServerError).message)
      .to.include(`${repo('absent')}:nope`)
      .and.include('not found');
    expect((failure as ServerError).status).to.equal(404);
  });
});

describe('cli: hashiship image copy / digest (real registries)', function () {
  this.timeout(120_000);
  let stack: TestStack;
  const refs: string[] = [];

  before(async function () {
    this.timeout(600_000);
    stack = await useStack();
  });
  const clients = () => stack.clients.registries;

  after(async function () {
    for (const ref of refs) {
      const r = parseImageRef(ref);
      const digest = await resolveDigest(r, { clients: clients() }).catch(() => undefined);
      if (digest !== undefined) await fetch(`http://${r.registry}/v2/${r.repository}/manifests/${digest}`, { method: 'DELETE' }).catch(() => {});
    }
  });

  it('copies with --json, prints the digest, refuses a moved tag with exit 6, and --force overwrites it', async function () {
    const src = `${QA}/${repo('cli')}:3`;
    const dst = `${PROD}/${repo('cli')}:3`;
    refs.push(src, dst);
    const a = await pushImage(src, { platforms: multiArch('cli-a'), clients: clients() });

    const copied = await cli(['image', 'copy', src, dst, '--json'], stack.env);
    expect(copied.code, copied.stderr).to.equal(0);
    const doc = JSON.parse(copied.stdout) as { kind: string; digest: string; blobs: { copied: number }; tagged: { action: string } };
    expect(doc).to.include({ kind: 'hashiship.image.copy', digest: a.digest });
    expect(doc.blobs.copied).to.equal(12);
    expect(doc.tagged.action).to.equal('created');

    const digest = await cli(['image', 'digest', dst], stack.env);
    expect(digest.code).to.equal(0);
    expect(digest.stdout.trim()).to.equal(a.digest);

    // Another image under the source tag: the destination tag would move.
    const b = await pushImage(src, { platforms: multiArch('cli-b'), clients: clients() });
    const refused = await cli(['image', 'copy', src, dst], stack.env);
    expect(refused.code).to.equal(6);
    expect(refused.stderr).to.include('already points at another image').and.include(a.digest).and.include(b.digest);
    const unchanged = await cli(['image', 'digest', dst], stack.env);
    expect(unchanged.stdout.trim(), unchanged.stderr).to.equal(a.digest);

    const forced = await cli(['image', 'copy', src, dst, '--force'], stack.env);
    expect(forced.code, forced.stderr).to.equal(0);
    expect(forced.stdout).to.include(`tag 3 overwritten`);
    const moved = await cli(['image', 'digest', dst], stack.env);
    expect(moved.stdout.trim(), moved.stderr).to.equal(b.digest);
  });

  it('bad input exits 1 naming the argument, before contacting anything', async function () {
    const bad = await cli(['image', 'copy', `${QA}/Bad_Repo:1`, `${PROD}/x:1`], stack.env);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.include('source "127.0.0.1:5001/Bad_Repo:1"').and.include('repository component');
    const badDigest = await cli(['image', 'digest', `${QA}/x@sha256:abc`], stack.env);
    expect(badDigest.code).to.equal(1);
    expect(badDigest.stderr).to.include('expected sha256: followed by 64 lowercase hex digits');
    const missing = await cli(['image', 'digest', `${QA}/${repo('nothing')}:1`], stack.env);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.include('not found');
  });
});

describe('registry: a blob GET redirected to storage (redirect middleware, storage served by python3 http.server)', function () {
  this.timeout(120_000);
  let dir: string;
  let source: TestRegistry;
  let files: ChildProcess | undefined;
  const requests: string[] = [];
  // The redirecting registry is anonymous: a root client without credentials.
  const clients = createClients(resolveConfig({ env: {}, home: '/nonexistent' })).registries;

  before(async function () {
    this.timeout(600_000);
    const stack = await useStack();
    const bin = await ensureTool(registryTool, { cacheDir: stack.options.cacheDir });
    dir = await mkdtemp(join(tmpdir(), 'hs-reg-redirect-'));
    const port = await freePort();
    // The registry answers blob GETs with 307 to <baseurl>/docker/registry/v2/blobs/…/data,
    // which a plain file server on its storage directory serves, as S3 would.
    source = await startRegistry(
      bin,
      dir,
      'redirect',
      run,
      ['middleware:', '  storage:', '    - name: redirect', '      options:', `        baseurl: http://127.0.0.1:${port}/`].join('\n'),
    );
    files = spawn('python3', ['-u', '-m', 'http.server', '--bind', '127.0.0.1', '--directory', source.storage, String(port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    files.stderr!.on('data', (d: Buffer) =>
      requests.push(
        ...d
          .toString()
          .split('\n')
          .filter((l) => l.includes('GET ')),
      ),
    );
    for (
      let i = 0;
      i < 100 &&
      !(await fetch(`http://127.0.0.1:${port}/`).then(
        () => true,
        () => false,
      ));
      i++
    )
      await new Promise((r) => setTimeout(r, 100));
  });

  after(async function () {
    files?.kill('SIGTERM');
    await source?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  for (const socketPipe of [true, false]) {
    it(`follows the redirect to storage (${socketPipe ? 'socket pipe' : 'axios stream'}) and verifies the blob`, async function () {
      const pushed = await pushImage(`${source.host}/${repo('redirected')}:${socketPipe}`, {
        clients,
        platforms: [{ os: 'linux', architecture: 'amd64', layers: [{ files: { 'r.txt': `redirected ${run} ${socketPipe}` } }] }],
      });
      const layer = pushed.platforms[0]!.layers[0]!;
      const answer = await fetch(`${source.url}/v2/${repo('redirected')}/blobs/${layer}`, { redirect: 'manual' });
      expect(answer.status).to.equal(307);
      const before = requests.length;
      const dst = `${PROD}/${repo('redirected')}:${socketPipe}`;
      const r = await copyImage(`${source.host}/${repo('redirected')}:${socketPipe}`, dst, { clients, socketPipe });
      expect(r.digest).to.equal(pushed.digest);
      expect(r.blobs.copied).to.equal(2);
      // Both blobs (layer and config) were fetched from the storage server.
      expect(requests.slice(before).filter((l) => l.includes('/docker/registry/v2/blobs/sha256/'))).to.have.length(2);
      const m = await clients.manifests.get(`${dst}@${pushed.digest}`);
      expect(m?.digest).to.equal(pushed.digest);
      await fetch(`http://${PROD}/v2/${repo('redirected')}/manifests/${pushed.digest}`, { method: 'DELETE' });
    });
  }
});
