import { expect } from 'chai';
import { ciPlan, foldEnd, foldStart, readCiOptions, readTravis, startHeartbeat, type TravisBuild } from '../../src/ci/travis.js';
import { InputError } from '../../src/errors.js';

const push: NodeJS.ProcessEnv = {
  TRAVIS_BUILD_NUMBER: '42',
  TRAVIS_BRANCH: 'main',
  TRAVIS_COMMIT: '0123456789abcdef0123456789abcdef01234567',
  TRAVIS_PULL_REQUEST: 'false',
};

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(InputError);
    return (err as InputError).problems.map((p) => `${p.subject}: ${p.message}`);
  }
  throw new Error('expected an InputError');
}

describe('ci: the Travis entry point logic', () => {
  it('reads a push build and a pull request build', () => {
    expect(readTravis(push)).to.deep.equal({ number: '42', branch: 'main', commit: push['TRAVIS_COMMIT'] });
    expect(readTravis({ ...push, TRAVIS_PULL_REQUEST: '17' }).pullRequest).to.equal('17');
  });

  it('names every missing or malformed Travis variable', () => {
    expect(problemsOf(() => readTravis({}))).to.have.length(4);
    expect(problemsOf(() => readTravis({ ...push, TRAVIS_BUILD_NUMBER: '0x2', TRAVIS_PULL_REQUEST: 'true', TRAVIS_COMMIT: 'HEAD' }))).to.deep.equal([
      'TRAVIS_BUILD_NUMBER="0x2": expected a positive build number',
      'TRAVIS_COMMIT="HEAD": expected a commit hash (hex)',
      'TRAVIS_PULL_REQUEST="true": expected "false" or a pull request number',
    ]);
  });

  it('reads the services and the defaults of the hashiship settings', () => {
    expect(readCiOptions({ HASHISHIP_SERVICES: 'web, billing' })).to.deep.equal({
      services: ['web', 'billing'],
      releaseBranch: 'main',
      from: 'qa',
      to: 'production',
      heartbeatSeconds: 60,
    });
    expect(readCiOptions({ HASHISHIP_SERVICES: 'web', HASHISHIP_RELEASE_BRANCH: 'release', HASHISHIP_TO: 'prod' })).to.include({
      releaseBranch: 'release',
      to: 'prod',
    });
    expect(problemsOf(() => readCiOptions({}))).to.deep.equal(['HASHISHIP_SERVICES: must be set (this script runs on Travis CI)']);
    expect(problemsOf(() => readCiOptions({ HASHISHIP_SERVICES: 'web,Web_1' }))[0]).to.contain('`Web_1` is not a service name');
    // Every name a service spec takes (dotted and underscore job IDs), none it refuses.
    expect(readCiOptions({ HASHISHIP_SERVICES: 'web, billing.api,node_exporter' }).services).to.deep.equal(['web', 'billing.api', 'node_exporter']);
    for (const bad of ['-web', 'web.', 'a..b', '_x', 'web/x'])
      expect(problemsOf(() => readCiOptions({ HASHISHIP_SERVICES: bad }))[0], bad).to.contain(`\`${bad}\` is not a service name`);
  });

  // Regression: `Number('abc')`, 0 and 99999999999 made a heartbeat every millisecond (Node's timer for NaN, 0 and
  // anything over 2^31 ms), flooding the build log until Travis cut it.
  it('takes a heartbeat of 1 to 540 seconds, in decimal digits, and names any other', () => {
    expect(readCiOptions({ HASHISHIP_SERVICES: 'web', HASHISHIP_HEARTBEAT_SECONDS: '1' }).heartbeatSeconds).to.equal(1);
    expect(readCiOptions({ HASHISHIP_SERVICES: 'web', HASHISHIP_HEARTBEAT_SECONDS: '540' }).heartbeatSeconds).to.equal(540);
    for (const bad of ['abc', '0', '541', '99999999999', '1e3', '-5', ' 60'])
      expect(
        problemsOf(() => readCiOptions({ HASHISHIP_SERVICES: 'web', HASHISHIP_HEARTBEAT_SECONDS: bad })),
        bad,
      ).to.deep.equal([`HASHISHIP_HEARTBEAT_SECONDS="${bad}": expected a whole number of seconds from 1 to 540 (Travis ends a job after 10 silent minutes)`]);
  });

  describe('what a build may do', () => {
    const options = readCiOptions({ HASHISHIP_SERVICES: 'web,billing' });
    const build: TravisBuild = readTravis(push);

    it('a push to the release branch deploys to QA, then promotes the same build', () => {
      const plan = ciPlan(build, options);
      expect(plan.notPromoted).to.equal(undefined);
      expect(plan.steps.map((s) => s.args.join(' '))).to.deep.equal([
        'deploy --env qa web billing --image web=42 --image billing=42 --build 42',
        'promote --from qa --to production web billing --build 42',
      ]);
      expect(plan.steps.map((s) => s.fold)).to.deep.equal(['hashiship.deploy.qa', 'hashiship.promote.production']);
    });

    it('a pull request build deploys to QA only, even from the release branch', () => {
      const plan = ciPlan({ ...build, pullRequest: '9' }, options);
      expect(plan.steps.map((s) => s.args[0])).to.deep.equal(['deploy']);
      expect(plan.notPromoted).to.equal('pull request #9 builds never reach production');
    });

    it('another branch deploys to QA only', () => {
      const plan = ciPlan({ ...build, branch: 'feature/x' }, options);
      expect(plan.steps).to.have.length(1);
      expect(plan.notPromoted).to.equal('branch feature/x is not the release branch main');
    });
  });

  it('fold markers follow Travis: start/end with the name, hidden by a carriage return and erase-line', () => {
    expect(foldStart('hashiship.deploy.qa')).to.equal('travis_fold:start:hashiship.deploy.qa\r\u001b[0K');
    expect(foldEnd('hashiship.deploy.qa')).to.equal('travis_fold:end:hashiship.deploy.qa\r\u001b[0K');
  });

  it('the heartbeat prints until stopped', async () => {
    const lines: string[] = [];
    const stop = startHeartbeat('deploy build 42 to qa', (l) => lines.push(l), 20);
    await new Promise((r) => setTimeout(r, 110));
    stop();
    const seen = lines.length;
    await new Promise((r) => setTimeout(r, 60));
    expect(seen).to.be.at.least(2);
    expect(lines.length).to.equal(seen);
    expect(lines[0]).to.match(/^still running: deploy build 42 to qa \(\d+ s\)\n$/);
  });
});
