/**
 * `deploy` becomes the release path (src/release/deploy-image.ts) only when asked:
 * `--image`, `--build`, or HASHISHIP_BUILD, and the reason names which one, so the
 * flags a release deploy refuses can say why (issue 11: no hidden mode switch).
 */
import { expect } from 'chai';
import { InputError } from '../../src/errors.js';
import { releaseMode } from '../../src/release/deploy-image.js';

describe('deploy --image: when a deploy is a release deploy (pure)', () => {
  it('a plain deploy without --image, --build or HASHISHIP_BUILD (an empty one counts as unset)', () => {
    expect(releaseMode({}, {})).to.equal(undefined);
    expect(releaseMode({ image: [], build: '' }, { HASHISHIP_BUILD: '' })).to.equal(undefined);
  });

  it('names what made it one; --build wins over HASHISHIP_BUILD', () => {
    expect(releaseMode({ image: ['web=42'] }, {})).to.deep.equal({ why: '--image makes this a release deploy' });
    expect(releaseMode({ build: '7' }, { HASHISHIP_BUILD: '9' })).to.deep.equal({ why: '--build makes this a release deploy', build: '7' });
    const fromEnv = releaseMode({}, { HASHISHIP_BUILD: '9' });
    expect(fromEnv?.build).to.equal('9');
    expect(fromEnv?.why).to.contain('HASHISHIP_BUILD="9"').and.contain('unset it for a plain deploy');
  });

  // Regression: HASHISHIP_BUILD="7\x1b" made a release deploy that asked the registry; a build number tags the promoted image.
  it('refuses a build number that cannot be an image tag, naming where it came from', () => {
    const problem = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        expect(e).to.be.instanceOf(InputError);
        return (e as InputError).message;
      }
      throw new Error('expected an InputError');
    };
    expect(problem(() => releaseMode({}, { HASHISHIP_BUILD: '7\u001b[2J' }))).to.match(/^HASHISHIP_BUILD="7\\u001b\[2J": not a build number/);
    expect(problem(() => releaseMode({ build: '../7' }, {}))).to.match(/^--build="\.\.\/7": not a build number/);
    expect(problem(() => releaseMode({ build: 'a b' }, {}))).to.match(/^--build="a b": not a build number/);
    expect(releaseMode({ build: '2024.10_rc-1' }, {})?.build).to.equal('2024.10_rc-1');
  });
});
