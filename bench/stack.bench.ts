/**
 * Warm `dev up` to all-healthy: the stack is brought down and up again with every
 * binary already in the cache (issue target: under 30 s).
 * Short mode (CI, inside `npm test`) does not restart a stack other tests or
 * people are using: it measures `dev up` on the running stack only.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { down, up, type StackOptions } from '../src/stack/stack.js';
import { short, type Benchmark } from './harness.js';

const bench: Benchmark = {
  name: 'stack',
  async run() {
    const options: StackOptions = {
      cacheDir: process.env['HASHISHIP_CACHE'] || join(homedir(), '.cache', 'hashiship'),
      ...(process.env['HASHISHIP_STACK_DIR'] ? { stateDir: process.env['HASHISHIP_STACK_DIR'] } : {}),
    };
    await up(options); // make sure every binary is built: this run is not measured
    if (short) {
      const again = await up(options);
      return [{ label: 'dev up on a running stack (idempotent; short mode does not restart the stack)', value: again.seconds, unit: 's' }];
    }
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
