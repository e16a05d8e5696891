/** Mocha root hooks: stop, after the run, only the stack components this run started. */
import { releaseStack } from './stack.js';

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await releaseStack();
  },
};
