/**
 * Throwaway docker-registry servers for tests that need a configuration the stack's
 * registries do not have (authentication, storage redirects): started on a free
 * loopback port, stopped by the test that started them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export interface TestRegistry {
  readonly host: string;
  readonly url: string;
  /** The filesystem storage's root directory. */
  readonly storage: string;
  stop(): Promise<void>;
}

/**
 * A docker-registry on a free port, its storage under `dir`, with `extra` YAML
 * appended to its configuration (an `auth:` or `middleware:` block); `stop()` ends
 * exactly the process started here.
 */
export async function startRegistry(bin: string, dir: string, name: string, secret: string, extra: string): Promise<TestRegistry> {
  const port = await freePort();
  const cfg = join(dir, `${name}.yml`);
  await writeFile(
    cfg,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, `${name}-data`)}`,
      'http:',
      `  addr: 127.0.0.1:${port}`,
      `  secret: ${secret}`,
      extra,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(bin, ['serve', cfg], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const ok = await fetch(`${url}/v2/`).then(
      (r) => r.status === 200 || r.status === 401,
      () => false,
    );
    if (ok) break;
    if (i > 100 || child.exitCode !== null) throw new Error(`${name} registry did not start`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host: `127.0.0.1:${port}`,
    url,
    storage: join(dir, `${name}-data`),
    stop: () =>
      new Promise<void>((r) => {
        if (child.exitCode !== null) return r();
        child.once('exit', () => r());
        child.kill('SIGTERM');
      }),
  };
}

/** The error a promise rejects with, or undefined when it resolves. */
export function failureOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (err: unknown) => err,
  );
}
