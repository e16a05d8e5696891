/**
 * Every benchmark in bench/ runs in its short mode (`npm run bench -- --short`:
 * small inputs, one round) against the real stack, so that none can rot unnoticed
 * as the render benchmark did (`spec.groups is not iterable` once specs could be
 * `kind: external`). Each must print its figures, with a ratio where it has a
 * peer, and no failure.
 */
import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { run } from '../../src/stack/proc.js';
import { useStack } from '../helpers/stack.js';

const repo = resolve('.');
const tsx = join(repo, 'node_modules', '.bin', 'tsx');
/** Benchmarks whose figures all stand alone (no peer, so no ratio line). */
const withoutPeer = new Set(['stack']);

describe('benchmarks in short mode (bench/*.bench.ts, BENCH_SHORT=1)', function () {
  this.timeout(240_000);
  const names = readdirSync(join(repo, 'bench'))
    .filter((f) => f.endsWith('.bench.ts'))
    .map((f) => f.slice(0, -'.bench.ts'.length))
    .sort();
  const took: string[] = [];

  before(async function () {
    this.timeout(600_000);
    await useStack();
  });

  after(() => {
    if (took.length > 0) process.stdout.write(`      short mode took: ${took.join(', ')}\n`);
  });

  it('finds the benchmarks', () => {
    expect(names).to.include.members(['consul', 'deploy', 'promote', 'registry', 'render', 'secrets', 'stack']);
  });

  for (const name of names) {
    it(`${name}: prints its figures${withoutPeer.has(name) ? '' : ' with a ratio against its peer'}`, async () => {
      const t0 = Date.now();
      const r = await run(tsx, ['bench/run.ts', '--short', name], { cwd: repo, env: { ...process.env, BENCH_SHORT: '1' }, timeoutMs: 230_000 });
      took.push(`${name} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      const out = r.stdout + r.stderr;
      expect(r.code, out).to.equal(0);
      expect(out).to.not.match(/failed:/);
      expect(r.stdout, out).to.contain(`# ${name} (short)\n`);
      const figures = r.stdout.split('\n').filter((l) => /^ {2}\S.*: \d/.test(l));
      expect(figures.length, out).to.be.greaterThan(0);
      if (!withoutPeer.has(name))
        expect(
          figures.some((l) => / vs .* ratio \d+\.\d\d/.test(l)),
          out,
        ).to.equal(true);
    });
  }
});
