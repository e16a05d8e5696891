import { expect } from 'chai';
import {
  ExitCode,
  ExitCodeOrder,
  GateError,
  HashishipError,
  InputError,
  MAX_PROBLEMS_SHOWN,
  exitCodeOf,
  pathErrorOf,
  worstExitCode,
} from '../../src/errors.js';

describe('errors: the worst of several exit codes', () => {
  it('ranks what the cluster was left in before refusals, refusals before waiting, waiting before success', () => {
    expect(ExitCodeOrder).to.deep.equal([4, 3, 5, 70, 2, 6, 1, 10, 0]);
    // Each code outranks every code after it, whatever the order given.
    for (const [i, worse] of ExitCodeOrder.entries()) {
      for (const better of ExitCodeOrder.slice(i + 1)) {
        expect(worstExitCode([better, worse]), `${worse} over ${better}`).to.equal(worse);
        expect(worstExitCode([worse, better]), `${worse} over ${better}`).to.equal(worse);
      }
    }
  });

  it('a refusal (6) outranks promotion-ready (10): Math.max had it the other way round', () => {
    expect(worstExitCode([10, 6])).to.equal(ExitCode.gate);
    expect(worstExitCode([ExitCode.promotionReady, ExitCode.ok])).to.equal(ExitCode.promotionReady);
  });

  it('no codes is success; an unknown code ranks just below an internal error', () => {
    expect(worstExitCode([])).to.equal(0);
    expect(worstExitCode([2, 42])).to.equal(42);
    expect(worstExitCode([70, 42])).to.equal(70);
  });
});

describe('errors: exit codes of what is thrown', () => {
  it('a file-system error on a path is bad input naming the path; anything else unknown is internal (70)', () => {
    const loop = Object.assign(new Error('ELOOP'), { code: 'ELOOP', path: '/s/loop.yaml', syscall: 'open' });
    expect(exitCodeOf(loop)).to.equal(1);
    expect(pathErrorOf(loop)?.describe()).to.equal('"/s/loop.yaml": too many levels of symbolic links (a symlink loop) (open)');
    expect(exitCodeOf(Object.assign(new Error('ENOSPC'), { code: 'ENOSPC', path: '/x' }))).to.equal(70);
    expect(exitCodeOf(new TypeError('x is undefined'))).to.equal(70);
    expect(exitCodeOf(new GateError('refused'))).to.equal(6);
  });

  it('instanceof HashishipError holds for an error of another copy of the module', () => {
    const foreign = Object.defineProperty(new Error('x'), Symbol.for('hashiship.error'), { value: true });
    expect(foreign instanceof HashishipError).to.equal(true);
    expect(new Error('x') instanceof HashishipError).to.equal(false);
    expect(new InputError([]) instanceof GateError).to.equal(false);
  });
});

describe('errors: input problems as printed', () => {
  // Regression: an environment naming 20,000 unknown services printed all 20,000 problems (1.8 MB).
  it('lists the first MAX_PROBLEMS_SHOWN problems and counts the rest', () => {
    const problems = Array.from({ length: MAX_PROBLEMS_SHOWN + 5 }, (_, i) => ({ subject: `s${i}`, message: 'no such service' }));
    const lines = new InputError(problems).describe().split('\n');
    expect(lines[0]).to.equal(`${MAX_PROBLEMS_SHOWN + 5} problems in the input`);
    expect(lines).to.have.length(MAX_PROBLEMS_SHOWN + 2);
    expect(lines[MAX_PROBLEMS_SHOWN]).to.equal(`  s${MAX_PROBLEMS_SHOWN - 1}: no such service`);
    expect(lines[MAX_PROBLEMS_SHOWN + 1]).to.equal(`  … and 5 more (the first ${MAX_PROBLEMS_SHOWN} are shown)`);
    expect(new InputError(problems.slice(0, 3)).describe().split('\n')).to.have.length(4);
  });
});
