/**
 * The registry client's pure parts: image references, `WWW-Authenticate`
 * challenges, manifest validation, the tar writer (checked with the real `tar`),
 * the streaming digest verifier, base URLs and bounded concurrency.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { ExitCode, InputError, ServerError } from '../../src/errors.js';
import { parseChallenges } from '../../src/registry/auth.js';
import { DigestVerifier } from '../../src/registry/blobs.js';
import { registryBaseURL } from '../../src/registry/client.js';
import { mapLimit } from '../../src/concurrency.js';
import { tarFiles } from '../../src/registry/build.js';
import { MediaType, parseManifest, sha256 } from '../../src/registry/manifests.js';
import { formatImageRef, parseImageRef } from '../../src/registry/ref.js';

const D = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'b'.repeat(64)}`;

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(InputError);
    expect((err as InputError).exitCode).to.equal(ExitCode.badInput);
    return err as InputError;
  }
  throw new Error('expected an InputError');
}

describe('registry: image references', function () {
  it('parses registry, repository, tag and digest', function () {
    expect(parseImageRef('127.0.0.1:5001/team/sample:42')).to.deep.equal({ registry: '127.0.0.1:5001', repository: 'team/sample', tag: '42' });
    expect(parseImageRef(`127.0.0.1:5001/team/sample@${D}`)).to.deep.equal({ registry: '127.0.0.1:5001', repository: 'team/sample', digest: D });
    expect(parseImageRef(`localhost/a/b/c:v1.2-rc_3@${D}`)).to.deep.equal({ registry: 'localhost', repository: 'a/b/c', tag: 'v1.2-rc_3', digest: D });
    expect(parseImageRef('registry.example.com/app')).to.deep.equal({ registry: 'registry.example.com', repository: 'app' });
    expect(parseImageRef('[::1]:5000/app:1')).to.deep.equal({ registry: '[::1]:5000', repository: 'app', tag: '1' });
  });

  it('defaults to Docker Hub and its library/ namespace', function () {
    expect(parseImageRef('nginx:1.27')).to.deep.equal({ registry: 'docker.io', repository: 'library/nginx', tag: '1.27' });
    expect(parseImageRef('team/app')).to.deep.equal({ registry: 'docker.io', repository: 'team/app' });
  });

  it('formats back what it parsed', function () {
    for (const s of ['127.0.0.1:5001/team/sample:42', `127.0.0.1:5002/a/b@${D}`, `localhost:5000/x:y@${D}`]) {
      expect(formatImageRef(parseImageRef(s))).to.equal(s);
    }
  });

  it('rejects bad references, naming the input and what was expected', function () {
    expect(inputError(() => parseImageRef('127.0.0.1:5001/Team/app:1', 'source')).message).to.equal(
      'source "127.0.0.1:5001/Team/app:1": repository component "Team": expected lowercase letters and digits separated by ".", "_", "__" or "-"',
    );
    expect(inputError(() => parseImageRef('127.0.0.1:5001/app@sha256:abc')).message).to.include('expected sha256: followed by 64 lowercase hex digits');
    expect(inputError(() => parseImageRef(`127.0.0.1:5001/app@sha256:${'A'.repeat(64)}`)).message).to.include('64 lowercase hex');
    expect(inputError(() => parseImageRef('127.0.0.1:5001//app')).message).to.include('empty repository path component');
    expect(inputError(() => parseImageRef('http://127.0.0.1:5001/app')).message).to.include('no scheme');
    expect(inputError(() => parseImageRef(' app')).message).to.include('expected [registry/]repository');
    expect(inputError(() => parseImageRef(`app:${'x'.repeat(129)}`)).message).to.include('up to 128');
    expect(inputError(() => parseImageRef('app:-x')).message).to.include('not starting with . or -');
    expect(inputError(() => parseImageRef('my_host:5000/app')).message).to.include('registry "my_host:5000": expected host[:port]');
    expect(inputError(() => parseImageRef('app___x')).message).to.include('repository component');
    expect(parseImageRef('app--x__y.z').repository).to.equal('library/app--x__y.z');
  });
});

describe('registry: WWW-Authenticate challenges', function () {
  it('parses a bearer challenge with quoted parameters', function () {
    expect(parseChallenges('Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:team/app:pull,push"')).to.deep.equal(
      [{ scheme: 'bearer', params: { realm: 'https://auth.example.com/token', service: 'registry.example.com', scope: 'repository:team/app:pull,push' } }],
    );
  });

  it('keeps commas and escaped quotes inside quoted values, and accepts tokens and spaces', function () {
    expect(parseChallenges('Bearer realm="a\\"b,c" , error=insufficient_scope,  scope="x y"')).to.deep.equal([
      { scheme: 'bearer', params: { realm: 'a"b,c', error: 'insufficient_scope', scope: 'x y' } },
    ]);
  });

  it('parses several challenges and lowercases schemes and parameter names', function () {
    expect(parseChallenges('Basic Realm="registry", Bearer realm="http://t/token",Service="s"')).to.deep.equal([
      { scheme: 'basic', params: { realm: 'registry' } },
      { scheme: 'bearer', params: { realm: 'http://t/token', service: 's' } },
    ]);
  });

  it('skips a token68 and gives nothing for an empty or malformed header', function () {
    expect(parseChallenges('Negotiate abc123==')).to.deep.equal([{ scheme: 'negotiate', params: {} }]);
    expect(parseChallenges('Negotiate abc123==, Basic realm="r"')).to.deep.equal([
      { scheme: 'negotiate', params: {} },
      { scheme: 'basic', params: { realm: 'r' } },
    ]);
    expect(parseChallenges('')).to.deep.equal([]);
    expect(parseChallenges('=oops')).to.deep.equal([]);
  });
});

describe('registry: manifest validation', function () {
  const image = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: D, size: 10 },
    layers: [{ mediaType: MediaType.ociLayer, digest: D2, size: 20, annotations: { a: 'b' } }],
  };

  it('parses an OCI image manifest', function () {
    const m = parseManifest(Buffer.from(JSON.stringify(image)));
    expect(m).to.deep.equal({
      kind: 'image',
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: D, size: 10 },
      layers: [{ mediaType: MediaType.ociLayer, digest: D2, size: 20, annotations: { a: 'b' } }],
    });
  });

  it('parses a Docker manifest list with platforms, and an index typed only by Content-Type', function () {
    const list = {
      schemaVersion: 2,
      mediaType: MediaType.dockerManifestList,
      manifests: [{ mediaType: MediaType.dockerManifest, digest: D, size: 5, platform: { architecture: 'arm', os: 'linux', variant: 'v7' } }],
    };
    expect(parseManifest(Buffer.from(JSON.stringify(list)))).to.deep.equal({
      kind: 'index',
      mediaType: MediaType.dockerManifestList,
      manifests: [{ mediaType: MediaType.dockerManifest, digest: D, size: 5, platform: { architecture: 'arm', os: 'linux', variant: 'v7' } }],
    });
    const bare = { schemaVersion: 2, manifests: [] };
    expect(parseManifest(Buffer.from(JSON.stringify(bare)), `${MediaType.ociIndex}; charset=utf-8`)).to.deep.equal({
      kind: 'index',
      mediaType: MediaType.ociIndex,
      manifests: [],
    });
  });

  it('lists every problem with its path', function () {
    const bad = { schemaVersion: 1, mediaType: MediaType.ociManifest, config: { mediaType: '', digest: 'md5:x', size: -1 }, layers: [{ digest: D }, 'x'] };
    const err = inputError(() => parseManifest(Buffer.from(JSON.stringify(bad)), undefined, 'm'));
    expect(err.problems.map((p) => `${p.subject}: ${p.message}`)).to.deep.equal([
      'm.schemaVersion: expected 2, got 1',
      'm.config.mediaType: expected a non-empty string',
      'm.config.digest: expected sha256:<64 hex>, got "md5:x"',
      'm.config.size: expected a non-negative integer',
      'm.layers[0].mediaType: missing',
      'm.layers[0].size: expected a non-negative integer',
      'm.layers[1]: expected an object',
    ]);
  });

  it('refuses unknown media types and non-JSON', function () {
    expect(
      inputError(() => parseManifest(Buffer.from(JSON.stringify({ ...image, mediaType: 'application/vnd.docker.distribution.manifest.v1+json' })))).message,
    ).to.include('unsupported');
    expect(inputError(() => parseManifest(Buffer.from('<html>'))).message).to.include('not JSON');
    expect(inputError(() => parseManifest(Buffer.from('[]'))).message).to.include('expected a JSON object');
  });
});

describe('registry: tar layers (checked with the real tar)', function () {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hs-tar-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a ustar archive tar lists and extracts, with parents, modes and long paths', function () {
    const long = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(90)}.txt`;
    const tar = tarFiles({ 'app/run.sh': { contents: '#!/bin/sh\necho hi\n', mode: 0o755 }, 'app/data.bin': Buffer.from([0, 1, 2, 255]), [long]: 'deep' });
    expect(tar.length % 512).to.equal(0);
    const file = join(dir, 'layer.tar.gz');
    writeFileSync(file, gzipSync(tar));
    const listing = execFileSync('tar', ['-tzvf', file], { encoding: 'utf8' });
    expect(listing).to.match(/^drwxr-xr-x root\/root\s+0 1970-01-01 00:00 app\/$/m);
    expect(listing).to.match(/^-rwxr-xr-x root\/root\s+18 1970-01-01 00:00 app\/run.sh$/m);
    expect(listing).to.include(long);
    const out = join(dir, 'out');
    execFileSync('mkdir', [out]);
    execFileSync('tar', ['-xzf', file, '-C', out]);
    expect(readFileSync(join(out, 'app/run.sh'), 'utf8')).to.equal('#!/bin/sh\necho hi\n');
    expect(statSync(join(out, 'app/run.sh')).mode & 0o777).to.equal(0o755);
    expect([...readFileSync(join(out, 'app/data.bin'))]).to.deep.equal([0, 1, 2, 255]);
    expect(readFileSync(join(out, long), 'utf8')).to.equal('deep');
  });

  it('is deterministic and refuses paths that escape or do not fit', function () {
    expect(tarFiles({ b: '2', a: '1' }).equals(tarFiles({ a: '1', b: '2' }))).to.equal(true);
    expect(inputError(() => tarFiles({ '../etc/passwd': 'x' })).message).to.include('without ".." components');
    expect(inputError(() => tarFiles({ [`${'x'.repeat(101)}`]: 'x' })).message).to.include('too long for a ustar header');
  });
});

describe('registry: streaming digest verification', function () {
  const body = Buffer.from('some layer bytes, more than one chunk when split');
  const chunks = [body.subarray(0, 10), body.subarray(10, 30), body.subarray(30)];

  it('passes the content through when it matches', async function () {
    const out: Buffer[] = [];
    const v = new DigestVerifier(sha256(body), body.length, '127.0.0.1:5001/team/app');
    v.on('data', (c: Buffer) => out.push(c));
    await pipeline(Readable.from(chunks), v);
    expect(Buffer.concat(out).equals(body)).to.equal(true);
    expect(v.bytes).to.equal(body.length);
  });

  it('fails naming the blob and holds back the last chunk when it does not match', async function () {
    const out: Buffer[] = [];
    const v = new DigestVerifier(D, body.length, '127.0.0.1:5001/team/app');
    v.on('data', (c: Buffer) => out.push(c));
    let failure: unknown;
    await pipeline(Readable.from(chunks), v).catch((err: unknown) => {
      failure = err;
    });
    expect(failure).to.be.instanceOf(ServerError);
    expect((failure as ServerError).message).to.equal(
      `registry 127.0.0.1:5001: blobs.verify: blob ${D} in team/app is corrupt: content hashes to ${sha256(body)}`,
    );
    expect(Buffer.concat(out).length).to.be.lessThan(body.length);
  });

  it('fails on a length other than the descriptor', async function () {
    const v = new DigestVerifier(sha256(body), body.length + 1, '127.0.0.1:5001/team/app');
    v.resume();
    const err = await pipeline(Readable.from(chunks), v).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as Error).message).to.include(`${body.length} bytes, its descriptor declares ${body.length + 1}`);
    const v2 = new DigestVerifier(sha256(body), 5, '127.0.0.1:5001/team/app');
    v2.resume();
    const err2 = await pipeline(Readable.from(chunks), v2).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err2 as Error).message).to.include('more than the 5 bytes');
  });

  it('sha256 is the hex digest with its algorithm', function () {
    expect(sha256('abc')).to.equal(`sha256:${createHash('sha256').update('abc').digest('hex')}`);
  });
});

describe('registry: base URLs and concurrency', function () {
  it('uses http for loopback, https elsewhere, Docker Hub’s API host, and a named registry’s URL', function () {
    expect(registryBaseURL('127.0.0.1:5001')).to.equal('http://127.0.0.1:5001');
    expect(registryBaseURL('localhost:5000')).to.equal('http://localhost:5000');
    expect(registryBaseURL('registry.example.com')).to.equal('https://registry.example.com');
    expect(registryBaseURL('docker.io')).to.equal('https://registry-1.docker.io');
    const config = {
      registries: { corp: { url: 'http://registry.corp:5000' } },
      vault: { address: 'https://127.0.0.1:8200', tokenSource: 'none', tls: { skipVerify: false } },
    } as const;
    expect(registryBaseURL('registry.corp:5000', { config })).to.equal('http://registry.corp:5000');
  });

  it('mapLimit keeps at most `limit` calls in flight, keeps order, and throws the first failure', async function () {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, n));
      inFlight--;
      return n * 10;
    });
    expect(out).to.deep.equal([50, 10, 40, 20, 30, 0]);
    expect(peak).to.equal(2);
    const err = await mapLimit([1, 2, 3], 3, async (n) => {
      if (n === 2) throw new Error('two');
      return n;
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as Error).message).to.equal('two');
  });
});
