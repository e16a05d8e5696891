/**
 * Image copies on the stack's real registries (docker-registry 2.8), same images
 * for every tool, each copy into a fresh destination repository:
 * - cross-registry (QA :5001 → production :5002) of a 5-layer ~200 MB image of
 *   random (incompressible) layers: hashiship `copyImage` vs `skopeo copy --all
 *   --preserve-digests` vs `crane copy`; three rounds in rotating order, best of each;
 * - same-registry promotion of a 5-layer 1 GB image to another repository:
 *   `copyImage` mounts every blob, so the time does not depend on the size.
 * The images are built with `pushImage`. Afterwards the run's repositories and
 * blob files (random, unique to the run) are removed from the registries'
 * storage, so repeated runs do not fill the disk.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClients } from '../src/clients.js';
import type { RegistryClients } from '../src/registry/registries.js';
import { copyImage, pushImage, writeRandomLayer, type PushResult } from '../src/registry/index.js';
import { ensureTool } from '../src/stack/install.js';
import { run } from '../src/stack/proc.js';
import { stateDirOf } from '../src/stack/stack.js';
import { crane, skopeo } from '../src/stack/versions.js';
import { benchStack, size, type Benchmark, type Figure } from './harness.js';

const QA = '127.0.0.1:5001';
/** skopeo's blob-info cache when run as root. */
const skopeoBlobCache = '/var/lib/containers/cache/blob-info-cache-v1.boltdb';
const PROD = '127.0.0.1:5002';
/** Layer sizes: 5 × 40 MB across registries, 5 × 200 MB within one (short mode: 1 MB and 4 MB). */
const SMALL_LAYER = size(40 << 20, 1 << 20);
const BIG_LAYER = size(200 << 20, 4 << 20);
const ROUNDS = size(3, 1);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

async function tool(bin: string, args: string[]): Promise<void> {
  const r = await run(bin, args, { timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`${bin} ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim().slice(-500)}`);
}

async function buildImage(dir: string, ref: string, layers: number, layerBytes: number, clients: RegistryClients): Promise<PushResult> {
  const paths: string[] = [];
  for (let i = 0; i < layers; i++) {
    const p = join(dir, `${i}.tar.gz`);
    await writeRandomLayer(p, layerBytes);
    paths.push(p);
  }
  const pushed = await pushImage(ref, {
    clients,
    chunkSize: 32 << 20,
    platforms: [{ os: 'linux', architecture: 'amd64', layers: paths.map((path) => ({ path })) }],
  });
  for (const p of paths) await rm(p, { force: true });
  return pushed;
}

const bench: Benchmark = {
  name: 'registry',
  async run(): Promise<Figure[]> {
    const stack = await benchStack();
    const { options } = stack;
    const { config } = stack;
    const craneBin = await ensureTool(crane, { cacheDir: options.cacheDir });
    const skopeoBin = await ensureTool(skopeo, { cacheDir: options.cacheDir });
    const clients = createClients(config).registries;
    const base = `hs-bench-${randomBytes(3).toString('hex')}`;
    const dir = await mkdtemp(join(tmpdir(), 'hs-reg-bench-'));
    const blobs = new Set<string>();
    try {
      // --- cross-registry, ~200 MB ---------------------------------------
      const small = await buildImage(dir, `${QA}/${base}/src:1`, 5, SMALL_LAYER, clients);
      for (const p of small.platforms) for (const d of [...p.layers, p.config]) blobs.add(d);
      const src = `${QA}/${base}/src:1`;
      const mb = small.bytes / 1e6;
      const best: Record<'hashiship' | 'skopeo' | 'crane', number> = { hashiship: Infinity, skopeo: Infinity, crane: Infinity };
      const copies: Record<keyof typeof best, (round: number) => Promise<void>> = {
        hashiship: async (round) => {
          const r = await copyImage(src, `${PROD}/${base}/hashiship-${round}:1`, { clients: createClients(config).registries });
          if (r.digest !== small.digest || r.blobs.copied !== 6) throw new Error(`hashiship copy: unexpected result ${JSON.stringify(r)}`);
        },
        skopeo: async (round) => {
          // skopeo remembers where it pushed blobs and would mount them from an
          // earlier round's repository: start every copy with an empty memory.
          await rm(skopeoBlobCache, { force: true });
          await tool(skopeoBin, [
            'copy',
            '--all',
            '--preserve-digests',
            '--src-tls-verify=false',
            '--dest-tls-verify=false',
            `docker://${src}`,
            `docker://${PROD}/${base}/skopeo-${round}:1`,
          ]);
        },
        crane: (round) => tool(craneBin, ['copy', '--insecure', src, `${PROD}/${base}/crane-${round}:1`]),
      };
      const names = Object.keys(copies) as (keyof typeof best)[];
      for (let round = 0; round < ROUNDS; round++) {
        // Each round starts with another tool, so no tool always runs on the warmest machine.
        for (let k = 0; k < names.length; k++) {
          const name = names[(round + k) % names.length]!;
          best[name] = Math.min(best[name], await timed(() => copies[name](round)));
        }
      }
      // Every peer's copy has the source digest.
      for (const name of ['skopeo-0', 'crane-0']) {
        const d = await clients.manifests.head(`${PROD}/${base}/${name}:1`);
        if (d?.digest !== small.digest) throw new Error(`${name}: digest ${d?.digest} differs from ${small.digest}`);
      }
      const faster = best.skopeo <= best.crane ? { name: 'skopeo', value: best.skopeo } : { name: 'crane', value: best.crane };

      // --- same registry, 1 GB -------------------------------------------
      const big = await buildImage(dir, `${QA}/${base}/big:1`, 5, BIG_LAYER, clients);
      for (const p of big.platforms) for (const d of [...p.layers, p.config]) blobs.add(d);
      let mounted = 0;
      const promote = await timed(async () => {
        const r = await copyImage(`${QA}/${base}/big:1`, `${QA}/${base}/big-production:1`, { clients: createClients(config).registries });
        mounted = r.blobs.mounted;
        if (r.digest !== big.digest || r.bytes !== 0) throw new Error(`same-registry copy sent ${r.bytes} bytes`);
      });
      const craneMount = await timed(() => tool(craneBin, ['copy', '--insecure', `${QA}/${base}/big:1`, `${QA}/${base}/big-crane:1`]));

      return [
        {
          label: `cross-registry copy, 5 layers ${mb.toFixed(0)} MB (best of ${ROUNDS}), vs the faster peer`,
          value: best.hashiship,
          unit: 's',
          peer: faster,
          target: 'ratio <= 1.0',
        },
        {
          label: 'cross-registry copy, hashiship vs skopeo copy --all --preserve-digests',
          value: best.hashiship,
          unit: 's',
          peer: { name: 'skopeo', value: best.skopeo },
        },
        { label: 'cross-registry copy, hashiship vs crane copy', value: best.hashiship, unit: 's', peer: { name: 'crane', value: best.crane } },
        { label: 'cross-registry copy throughput', value: mb / best.hashiship, unit: 'MB/s' },
        {
          label: `same-registry promotion of a ${(big.bytes / 1e9).toFixed(2)} GB image (${mounted} blobs mounted)`,
          value: promote,
          unit: 's',
          peer: { name: 'crane copy', value: craneMount },
          target: '< 0.5 s',
        },
      ];
    } finally {
      await rm(dir, { recursive: true, force: true });
      // The run's repositories and its random blobs: nobody else can reference them.
      const state = stateDirOf(options);
      for (const reg of ['registry-qa-data', 'registry-production-data']) {
        const v2 = join(state, reg, 'docker', 'registry', 'v2');
        await rm(join(v2, 'repositories', base), { recursive: true, force: true });
        for (const d of blobs) {
          const hex = d.slice('sha256:'.length);
          await rm(join(v2, 'blobs', 'sha256', hex.slice(0, 2), hex), { recursive: true, force: true });
        }
      }
    }
  },
};

export default bench;
