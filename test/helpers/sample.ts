/**
 * The sample service (examples/sample) set up for one run on the dev stack:
 * its spec and environments copied to a temp dir under a unique service name
 * (`sample-<suffix>`, repository `hashiship/sample-<suffix>`), the Nomad
 * namespaces `qa` and `production`, images built through the registry API, a
 * GET through Fabio's proxy with a Host header, and the clean-up of its jobs and
 * keys. Shared by test/integration/promote.test.ts and bench/promote.bench.ts.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HashishipConfig } from '../../src/config/index.js';
import { weightKey } from '../../src/fabio/weights.js';
import { hostArchitecture } from '../../src/release/image.js';
import { pushImage } from '../../src/registry/index.js';

const here = new URL('../../examples/sample/', import.meta.url);
export const QaRegistry = '127.0.0.1:5001';

/** One copy of the sample on the stack. */
export interface Sample {
  readonly service: string;
  readonly repository: string;
  readonly dir: string;
  readonly dirs: { readonly services: string; readonly environments: string };
  /** Digests of the images built, by build number. */
  readonly digests: Record<string, string>;
}

/**
 * Copy the sample's spec and environments under a unique name; `edit` may change
 * the service file (e.g. shorter deadlines). Creates the Nomad namespaces.
 */
export async function setupSample(config: HashishipConfig, suffix: string, edit: (yaml: string) => string = (y) => y): Promise<Sample> {
  for (const ns of ['qa', 'production']) {
    const res = await fetch(`${config.nomad.address}/v1/namespace/${ns}`, {
      method: 'PUT',
      body: JSON.stringify({ Name: ns, Description: `hashiship ${ns} (sample service)` }),
    });
    if (!res.ok) throw new Error(`PUT /v1/namespace/${ns}: ${res.status} ${await res.text()}`);
  }
  const service = `sample-${suffix}`;
  const repository = `hashiship/sample-${suffix}`;
  const dir = mkdtempSync(join(tmpdir(), 'hashiship-sample-'));
  const dirs = { services: join(dir, 'services'), environments: join(dir, 'environments') };
  mkdirSync(dirs.services);
  mkdirSync(dirs.environments);
  const yaml = readFileSync(new URL('jobs/services/sample.yaml', here), 'utf8')
    .replace('name: sample\n', `name: ${service}\n`)
    .replace('repository: hashiship/sample', `repository: ${repository}`)
    .replace('host: sample', `host: ${service}`);
  writeFileSync(join(dirs.services, `${service}.yaml`), edit(yaml));
  for (const env of ['qa', 'production']) {
    writeFileSync(join(dirs.environments, `${env}.yaml`), readFileSync(new URL(`jobs/environments/${env}.yaml`, here), 'utf8'));
  }
  return { service, repository, dir, dirs, digests: {} };
}

/** Build version `version` of the sample and push it to the QA registry as `<repository>:<build>`. */
export async function buildSample(s: Sample, build: string, version: string, brokenIn?: string): Promise<string> {
  const files: Record<string, string> = {
    'app/server.py': readFileSync(new URL('app/server.py', here), 'utf8'),
    'app/VERSION': `${version}\n`,
  };
  if (brokenIn !== undefined) files['app/broken_in'] = `${brokenIn}\n`;
  const r = await pushImage(`${QaRegistry}/${s.repository}:${build}`, {
    platforms: [{ os: 'linux', architecture: hostArchitecture(), layers: [{ files }], config: { Cmd: ['python3', '/app/server.py'] } as never }],
  });
  s.digests[build] = r.digest;
  return r.digest;
}

/** GET through Fabio's proxy with a Host header (fetch cannot set Host). */
export function viaFabio(host: string, path: string, proxyPort = 9999): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, path, headers: { Host: host } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Purge the sample's jobs in both namespaces and delete its keys. */
export async function cleanupSample(config: HashishipConfig, s: Sample): Promise<void> {
  for (const ns of ['qa', 'production']) {
    await fetch(`${config.nomad.address}/v1/job/${s.service}?purge=true&namespace=${ns}`, { method: 'DELETE' }).catch(() => undefined);
  }
  const keys = [
    `hashiship/releases/qa/${s.service}`,
    `hashiship/releases/production/${s.service}`,
    `hashiship/promotions/production/${s.service}`,
    `hashiship/locks/production/${s.service}`,
    weightKey(s.service),
  ];
  for (const k of keys) await fetch(`${config.consul.address}/v1/kv/${k}?recurse=true`, { method: 'DELETE' }).catch(() => undefined);
  rmSync(s.dir, { recursive: true, force: true });
}
