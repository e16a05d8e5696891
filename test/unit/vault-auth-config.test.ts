/** Resolution of the Vault login variables (pure: files in a temp dir, no server). */
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config/index.js';
import { InputError } from '../../src/errors.js';
import { redactTokens } from '../../src/redact.js';

const home = mkdtempSync(join(tmpdir(), 'hashiship-auth-home-'));
writeFileSync(join(home, '.vault-token'), 'hvs.from-the-token-helper-file\n');
const file = (name: string, text: string): string => {
  const p = join(home, name);
  writeFileSync(p, text);
  return p;
};

describe('vault auth variables (config)', () => {
  it('AppRole from files wins over ~/.vault-token; VAULT_APPROLE_MOUNT is trimmed of slashes', () => {
    const c = resolveConfig({
      env: { VAULT_ROLE_ID_FILE: file('role-id', 'rid-1\n'), VAULT_SECRET_ID_FILE: file('secret-id', 'sid-1\n'), VAULT_APPROLE_MOUNT: '/ci-approle/' },
      home,
    }).vault;
    expect(c.auth).to.deep.equal({ method: 'approle', mount: 'ci-approle', roleId: 'rid-1', secretId: 'sid-1' });
    expect(c.token).to.equal(undefined);
    expect(c.tokenSource).to.equal('none');
  });

  it('VAULT_TOKEN wins over a login method; ~/.vault-token is used when nothing else is set', () => {
    const t = resolveConfig({ env: { VAULT_TOKEN: 'hvs.x', VAULT_ROLE_ID: 'r', VAULT_SECRET_ID: 's' }, home }).vault;
    expect(t.auth).to.equal(undefined);
    expect(t.tokenSource).to.equal('VAULT_TOKEN');
    const f = resolveConfig({ env: {}, home }).vault;
    expect(f.tokenSource).to.equal('~/.vault-token');
  });

  it('JWT with role and default mount "jwt"', () => {
    const c = resolveConfig({ env: { VAULT_JWT: 'eyJ.a.b', VAULT_JWT_ROLE: 'ci' }, home }).vault;
    expect(c.auth).to.deep.equal({ method: 'jwt', mount: 'jwt', role: 'ci', jwt: 'eyJ.a.b' });
  });

  it('names each bad variable, never its secret value', () => {
    let err: unknown;
    try {
      resolveConfig({ env: { VAULT_SECRET_ID: 'sid-secret-value', VAULT_JWT_ROLE: 'r', VAULT_ROLE_ID_FILE: join(home, 'absent') }, home });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(InputError);
    const text = (err as InputError).describe();
    expect(text).to.contain(`VAULT_ROLE_ID_FILE="${join(home, 'absent')}": no such file or directory`);
    expect(text).to.contain('VAULT_ROLE_ID: not set (nor VAULT_ROLE_ID_FILE), but VAULT_SECRET_ID is; AppRole needs both');
    // The CLI's redactor leaves every word of these messages (it once printed `VAULT_SECRET_ID: <redacted> without …`).
    expect(redactTokens(text)).to.equal(text);
    expect(text).to.contain('VAULT_JWT_ROLE: set without VAULT_JWT');
    expect(text).not.to.contain('sid-secret-value');
    let both: unknown;
    try {
      resolveConfig({ env: { VAULT_ROLE_ID: 'r', VAULT_ROLE_ID_FILE: file('rid2', 'r2') }, home });
    } catch (e) {
      both = e;
    }
    expect((both as InputError).describe()).to.contain('set both VAULT_ROLE_ID and VAULT_ROLE_ID_FILE');
  });
});
