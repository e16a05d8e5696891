/**
 * Helpers of the Vault integration tests: the CLI as a user runs it (tsx on
 * src/cli.ts, exit code and both streams kept), a raw HTTP call with the stack's
 * root token (setup and clean-up only; what is tested goes through hashiship), and
 * a temp folder of specs.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestStack } from './stack.js';

const exec = promisify(execFile);

/** Exit code, stdout and stderr of `hashiship <args>` with exactly `env` (plus PATH). */
export async function cli(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  timeout = 120_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      env: { PATH: process.env['PATH'] ?? '', ...env },
      timeout,
      maxBuffer: 64 << 20,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number | string; stdout: string; stderr: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

/** `fetch` on the stack's Vault with its root token. */
export function vaultApi(stack: TestStack): (method: string, path: string, body?: unknown) => Promise<Response> {
  return (method, path, body) =>
    fetch(`${stack.config.vault.address}/v1/${path}`, {
      method,
      headers: { 'X-Vault-Token': stack.env['VAULT_TOKEN'] ?? '' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
}

/** A temp folder with one service spec and one environment, and the flags that select them. */
export async function specFolder(
  prefix: string,
  service: { readonly name: string; readonly yaml: readonly string[] },
  environment: { readonly name: string; readonly yaml: readonly string[] },
): Promise<{ readonly dir: string; readonly specFlags: string[]; readonly flags: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await mkdir(join(dir, 'services'));
  await mkdir(join(dir, 'environments'));
  await writeFile(join(dir, 'services', `${service.name}.yaml`), `${service.yaml.join('\n')}\n`);
  await writeFile(join(dir, 'environments', `${environment.name}.yaml`), `${environment.yaml.join('\n')}\n`);
  const specFlags = ['--services', join(dir, 'services'), '--environments', join(dir, 'environments')];
  return { dir, specFlags, flags: ['--env', environment.name, ...specFlags] };
}
