/**
 * Real container images for tests, built on this machine (no Docker Hub here): the
 * `hello` HTTP server (test/fixtures/images/hello) compiled as a static Go binary
 * and put in a FROM-scratch image with `docker build`, then `docker push`ed — the
 * commands CI runs.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const helloSource = fileURLToPath(new URL('../fixtures/images/hello/', import.meta.url));

/** Run the docker CLI against an engine; stdout, or an Error with its stderr. */
export async function docker(host: string, args: readonly string[], timeoutMs = 120_000): Promise<string> {
  try {
    const r = await exec('docker', [...args], {
      env: { ...process.env, DOCKER_HOST: host, DOCKER_BUILDKIT: '0' },
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
    });
    return r.stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`docker ${args.join(' ')}: ${(e.stderr ?? '').trim() || e.message}`, { cause: err });
  }
}

let built: Promise<string> | undefined;

/**
 * The hello server's build context (main.go, go.mod, Dockerfile and the static
 * binary `hello`), compiled once per test process with CGO_ENABLED=0.
 */
export function helloContext(): Promise<string> {
  built ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hashiship-hello-'));
    cpSync(helloSource, dir, { recursive: true });
    await exec('go', ['build', '-trimpath', '-ldflags', '-s -w', '-o', 'hello', '.'], {
      cwd: dir,
      env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false', GOTOOLCHAIN: 'local' },
      timeout: 300_000,
    });
    return dir;
  })();
  return built;
}

export interface BuiltImage {
  /** `host/repo:tag` as built and pushed. */
  readonly tag: string;
  /** The manifest digest the registry answered to the push (`sha256:…`). */
  readonly digest: string;
  /** `host/repo@sha256:…`: what a job pulls. */
  readonly ref: string;
  readonly buildSeconds: number;
  readonly pushSeconds: number;
}

/**
 * `docker build --build-arg VERSION=<version> -t <registry>/<repo>:<tag>` of the
 * hello server, then `docker push`; the digest is read from the engine's RepoDigests.
 */
export async function buildAndPushHello(host: string, registry: string, repo: string, tag: string, version = tag): Promise<BuiltImage> {
  const context = await helloContext();
  const name = `${registry}/${repo}:${tag}`;
  const t0 = Date.now();
  await docker(host, ['build', '--quiet', '--build-arg', `VERSION=${version}`, '--tag', name, context]);
  const t1 = Date.now();
  await docker(host, ['push', name]);
  const t2 = Date.now();
  const digests = JSON.parse(await docker(host, ['image', 'inspect', '--format', '{{json .RepoDigests}}', name])) as string[];
  const ref = digests.find((d) => d.startsWith(`${registry}/${repo}@`));
  if (ref === undefined) throw new Error(`no digest of ${name} after the push: ${JSON.stringify(digests)}`);
  return { tag: name, digest: ref.slice(ref.indexOf('@') + 1), ref, buildSeconds: (t1 - t0) / 1000, pushSeconds: (t2 - t1) / 1000 };
}
