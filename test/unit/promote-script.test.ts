/**
 * scripts/promote.mjs prints its own errors (bad Travis or HASHISHIP_* variables,
 * found before any step runs) through hashiship's redaction: a configured token or a
 * token-shaped value in a variable never reaches the build log. Regression: the
 * script wrote `err.describe()` raw, echoing `TRAVIS_COMMIT="<the token>"`.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureBuilt } from '../helpers/dist.js';

const root = new URL('../../', import.meta.url).pathname;

describe('scripts/promote.mjs: its own errors are redacted', function () {
  before(function () {
    this.timeout(120_000);
    ensureBuilt();
  });

  it('a bad variable carrying a token is named, exit 1, the token redacted', function () {
    this.timeout(30_000);
    const known = 'ci-vault-token-4f1e9a';
    const shaped = `hvs.${'Q'.repeat(24)}`;
    const r = spawnSync(process.execPath, [join(root, 'scripts/promote.mjs')], {
      cwd: root,
      encoding: 'utf8',
      env: {
        PATH: process.env['PATH'] ?? '',
        VAULT_TOKEN: known,
        TRAVIS_BUILD_NUMBER: '7',
        TRAVIS_BRANCH: 'main',
        TRAVIS_COMMIT: known,
        TRAVIS_PULL_REQUEST: shaped,
        HASHISHIP_SERVICES: 'sample',
      },
    });
    expect(r.status, r.stderr).to.equal(1);
    expect(r.stderr).to.contain('TRAVIS_COMMIT="<redacted>"').and.contain('TRAVIS_PULL_REQUEST="<redacted>"');
    expect(r.stderr).not.to.contain(known).and.not.to.contain(shaped);
    expect(r.stdout).to.equal('');
  });
});
