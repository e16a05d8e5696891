/**
 * The property test's generator: every spec it writes must be YAML that reads back
 * as the generated value, or a "mismatch" is the generator's, not hashiship's.
 */
import { expect } from 'chai';
import { parse, stringify } from 'yaml';
import { yamlText } from '../helpers/spec-arbitrary.js';

describe('property generator (YAML text)', () => {
  // Regression: `npm run fuzz` seed 20261203 case 17579 failed with "Block scalars with more-indented leading empty
  // lines must use an explicit indentation indicator": the yaml package wrote a template body it cannot read back.
  it('writes a value the yaml package would write unreadably so that it reads back the same', () => {
    const value = { templates: [{ data: ' \n\t\n\n' }, { data: ' \n\t\n' }] };
    expect(() => parse(stringify(value))).to.throw(/indentation indicator/);
    expect(parse(yamlText(value))).to.deep.equal(value);
  });

  it('leaves every other value as the yaml package writes it (block scalars stay block scalars)', () => {
    const value = { templates: [{ data: 'line one\nline two\n' }] };
    expect(yamlText(value)).to.equal(stringify(value));
    expect(yamlText(value)).to.include('data: |');
  });
});
