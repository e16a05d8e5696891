/**
 * Warm `dev up` to all-healthy: the stack is brought down and up again with every
 * binary already in the cache (issue target: under 30 s).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { down, up, type StackOptions } from '../src/stack/stack.js';
import type { Benchmark } from './harness.js';

const bench: Benchmark = {
  name: 'stack',
  async run() {
    const options: StackOptions = {
      cacheDir: process.env['HASHISHIP_CACHE'] || join(homedir(), '.cache', 'hashiship'),
      ...(process.env['HASHISHIP_STACK_DIR'] ? { stateDir: process.env['HASHISHIP_STACK_DIR'] } : {}),
    };
    await up(options); // make sure every binary is built: this run is not measured
    await down(options);
    const r = await up(options);
    const again = await up(options);
    return [
      { label: 'warm dev up to all-healthy', value: r.seconds, unit: 's', target: '< 30 s' },
      { label: 'dev up on a running stack (idempotent)', value: again.seconds, unit: 's' },
    ];
  },
};
export default bench;
