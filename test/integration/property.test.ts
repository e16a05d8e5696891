/**
 * Property test against the real parser: 2,000 generated specs with adversarial
 * strings (quotes, `${…}`, `%{…}`, heredoc markers, backslashes, newlines, emoji)
 * render to HCL that Nomad parses into exactly our JSON model, and that
 * `nomad fmt -check` leaves alone. `npm run fuzz` runs 20,000.
 * HASHISHIP_PROPERTY_SEED replays a run; HASHISHIP_PROPERTY_RUNS changes its size.
 */
import { expect } from 'chai';
import { nomadBinary } from '../helpers/spec-nomad.js';
import { describeFailures, runProperty } from '../helpers/spec-property.js';
import { useStack, type TestStack } from '../helpers/stack.js';

describe('property: generated specs against the real Nomad parser', function () {
  let stack: TestStack;

  before(async function () {
    this.timeout(40 * 60_000);
    stack = await useStack();
  });

  it('renders 2,000 adversarial specs that Nomad parses into our model, fmt-clean', async function () {
    this.timeout(10 * 60_000);
    const seed = Number(process.env['HASHISHIP_PROPERTY_SEED'] ?? Date.now() % 2 ** 31);
    const runs = Number(process.env['HASHISHIP_PROPERTY_RUNS'] ?? 2000);
    const r = await runProperty({ nomad: stack.clients.nomad.client, nomadBinary: nomadBinary(stack.env), runs, seed });
    process.stderr.write(`      [property] ${r.runs} cases, seed ${r.seed}, ${r.seconds.toFixed(1)} s, ${r.failures.length} mismatches\n`);
    expect(r.runs).to.equal(runs);
    expect(r.failures.length, describeFailures(r)).to.equal(0);
    expect(r.unformatted).to.deep.equal([]);
  });
});
