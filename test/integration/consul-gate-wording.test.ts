/**
 * The health gate names its selector by the meta key it reads (issue 11: the
 * promotion's gates said "version qa" for instances selected by environment).
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { GateError } from '../../src/errors.js';
import { useStack } from '../helpers/stack.js';

describe('consul health gate: the requirement names the meta key it selects by', function () {
  this.timeout(60_000);

  it('says "environment qa" when it selects by environment, "version 42" by version', async () => {
    const { clients } = await useStack();
    const service = `gate-wording-${randomBytes(3).toString('hex')}`;
    const required = async (o: { version: string; versionMetaKey?: string }) => {
      const err = await clients.consul.health.waitForHealthy({ service, ...o, deadlineMs: 500 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(GateError);
      return (err as GateError).context.find(([k]) => k === 'Required')?.[1];
    };
    expect(await required({ version: 'qa', versionMetaKey: 'environment' })).to.equal(`every instance of ${service} environment qa passing (at least 1)`);
    expect(await required({ version: '42' })).to.equal(`every instance of ${service} version 42 passing (at least 1)`);
  });
});
