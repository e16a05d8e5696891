/**
 * Registering 500 external services, one TCP check each, on the real stack's
 * Consul agent: hashiship (500 `kind: external` spec files read and validated,
 * then `syncServices`: one listing and agent registrations 32 at a time) beside a
 * shell loop of the real `consul services register <file>` over 500 service
 * definition files, with CONSUL_HTTP_ADDR set. Both sets are unique to the run,
 * counted in the agent afterwards and deregistered.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createClients } from '../src/clients.js';
import { eachLimited } from '../src/consul/services.js';
import { readSpecFiles } from '../src/service-spec/files.js';
import { loadSet, resolveExternals } from '../src/service-spec/load.js';
import { ensureTool } from '../src/stack/install.js';
import { consul as consulTool } from '../src/stack/versions.js';
import { benchStack, size, type Benchmark, type Figure } from './harness.js';

const exec = promisify(execFile);
const N = size(500, 20);

const bench: Benchmark = {
  name: 'consul',
  async run(): Promise<Figure[]> {
    const stack = await benchStack();
    const { options } = stack;
    const config = stack.config.consul;
    const { consul } = createClients(stack.config);
    const bin = await ensureTool(consulTool, { cacheDir: options.cacheDir });
    const run = randomBytes(3).toString('hex');
    const env = `bench${run}`;
    const dir = await mkdtemp(join(tmpdir(), 'hs-bench-consul-'));
    const pad = (i: number) => String(i).padStart(4, '0');
    await mkdir(join(dir, 'services'));
    await mkdir(join(dir, 'environments'));
    await mkdir(join(dir, 'cli'));
    await writeFile(join(dir, 'environments', `${env}.yaml`), `name: ${env}\n`);
    for (let i = 0; i < N; i++) {
      const name = `bh-${run}-h-${pad(i)}`;
      await writeFile(
        join(dir, 'services', `${name}.yaml`),
        `kind: external\nname: ${name}\naddress: 127.0.0.1\nport: ${20000 + i}\ntags: [bench]\nchecks:\n  - type: tcp\n    interval: 30s\n    timeout: 2s\n`,
      );
      const cname = `bh-${run}-c-${pad(i)}`;
      await writeFile(
        join(dir, 'cli', `${cname}.json`),
        JSON.stringify({
          service: {
            id: cname,
            name: cname,
            address: '127.0.0.1',
            port: 20000 + i,
            tags: ['bench'],
            check: { id: `${cname}:tcp`, name: `${cname}-tcp`, tcp: `127.0.0.1:${20000 + i}`, interval: '30s', timeout: '2s' },
          },
        }),
      );
    }
    const countLive = async (infix: string): Promise<number> => (await consul.services.list()).filter((s) => s.id.startsWith(`bh-${run}-${infix}-`)).length;
    try {
      const t0 = performance.now();
      const externals = resolveExternals(loadSet(await readSpecFiles([join(dir, 'services'), join(dir, 'environments')])), env);
      const result = await consul.services.sync(env, externals);
      const ours = (performance.now() - t0) / 1000;
      if (result.changes.length !== N || (await countLive('h')) !== N)
        throw new Error(`hashiship registered ${result.changes.length}, agent holds ${await countLive('h')}`);
      const t1 = performance.now();
      const again = await consul.services.sync(env, resolveExternals(loadSet(await readSpecFiles([join(dir, 'services'), join(dir, 'environments')])), env));
      const noop = (performance.now() - t1) / 1000;
      if (again.changes.length !== 0) throw new Error(`second sync made ${again.changes.length} changes`);

      const t2 = performance.now();
      await exec('bash', ['-c', 'for f in "$1"/*.json; do "$2" services register "$f" >/dev/null || exit 1; done', 'loop', join(dir, 'cli'), bin], {
        env: { ...process.env, CONSUL_HTTP_ADDR: config.address },
        maxBuffer: 1 << 24,
      });
      const peer = (performance.now() - t2) / 1000;
      if ((await countLive('c')) !== N) throw new Error(`the consul loop left ${await countLive('c')} services`);
      return [
        {
          label: `register ${N} external services, one tcp check each (specs read + validated, agent API, 32 in flight)`,
          value: ours,
          unit: 's',
          peer: { name: 'shell loop of consul services register', value: peer },
          target: 'ratio <= 0.2',
        },
        { label: `second run of the same ${N} (no change)`, value: noop, unit: 's' },
      ];
    } finally {
      await consul.services.sync(env, []).catch(() => undefined);
      const left = (await consul.services.list()).filter((s) => s.id.startsWith(`bh-${run}-`));
      // The consul CLI's set (not hashiship's: no ownership marks), 16 at a time (Consul limits connections per client).
      await eachLimited(left, 16, async (s) => {
        const res = await fetch(`${config.address}/v1/agent/service/deregister/${encodeURIComponent(s.id)}`, { method: 'PUT' });
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`deregister ${s.id}: ${res.status}`);
      });
      const still = (await consul.services.list()).filter((s) => s.id.startsWith(`bh-${run}-`)).length;
      // eslint-disable-next-line no-unsafe-finally -- services left behind fail the benchmark, even over the error that stopped it
      if (still > 0) throw new Error(`${still} benchmark services are still registered`);
      await rm(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
