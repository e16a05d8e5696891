/**
 * Vault authentication against real Vaults: AppRole and JWT logins on auth mounts
 * enabled for this run only (unique paths, removed afterwards) on the shared Vault;
 * token renewal with tokens whose TTL is a few seconds, over runs longer than it;
 * expired and revoked tokens (exit 2 naming the auth method, never the token); a
 * denied path (exit 6 naming it); and a sealed Vault — a second dev Vault this test
 * starts itself on another loopback port, seals, unseals and stops (the shared one
 * is never sealed).
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClients } from '../../src/clients.js';
import type { VaultConfig } from '../../src/config/index.js';
import { resolveConfig } from '../../src/config/index.js';
import { ExitCode, GateError, ServerError } from '../../src/errors.js';
import { vaultLogin, withVault } from '../../src/vault/auth.js';
import { useStack, type TestStack } from '../helpers/stack.js';
import { cli, vaultApi } from '../helpers/vault.js';

const run = randomBytes(3).toString('hex');
const base = `hs-auth-${run}`;
const approleMount = `approle-${base}`;
const jwtMount = `jwt-${base}`;
const policy = `${base}-read`;
const value = `v-${randomBytes(8).toString('hex')}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function b64url(x: Buffer | string): string {
  return Buffer.from(x).toString('base64url');
}

describe('vault auth: token, AppRole, JWT, renewal and errors (real Vault)', function () {
  this.timeout(180_000);
  let stack: TestStack;
  let dir: string;
  let vault: ReturnType<typeof vaultApi>;
  /** Variables without any Vault credentials (and a HOME without ~/.vault-token). */
  let bare: Record<string, string>;

  before(async () => {
    stack = await useStack();
    vault = vaultApi(stack);
    dir = await mkdtemp(join(tmpdir(), 'hashiship-vault-auth-'));
    const { VAULT_TOKEN: _t, ...rest } = stack.env;
    bare = { ...rest, HOME: dir };
    expect((await vault('POST', `secret/data/${base}/app`, { data: { v: value } })).status).to.equal(200);
    expect((await vault('POST', `secret/data/${base}/other`, { data: { v: 'other' } })).status).to.equal(200);
    const hcl = `path "secret/data/${base}/app" {\n  capabilities = ["read"]\n}\npath "sys/internal/ui/mounts/*" {\n  capabilities = ["read"]\n}\n`;
    expect((await vault('PUT', `sys/policies/acl/${policy}`, { policy: hcl })).status).to.equal(204);
  });

  after(async () => {
    if (stack === undefined) return;
    await vault('DELETE', `sys/auth/${approleMount}`);
    await vault('DELETE', `sys/auth/${jwtMount}`);
    await vault('DELETE', `sys/policies/acl/${policy}`);
    for (const s of ['app', 'other']) await vault('DELETE', `secret/metadata/${base}/${s}`);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** A token of `policy` with the given TTL settings, made with the root token. */
  async function token(body: Record<string, unknown>): Promise<string> {
    const r = await vault('POST', 'auth/token/create', { policies: [policy], no_default_policy: false, ...body });
    expect(r.status).to.equal(200);
    return ((await r.json()) as { auth: { client_token: string } }).auth.client_token;
  }

  it('AppRole from files (what CI uses): the CLI reads the secret; a wrong secret ID is exit 2 naming the mount, never the ID; another path is exit 6 naming it', async () => {
    expect((await vault('POST', `sys/auth/${approleMount}`, { type: 'approle' })).status).to.equal(204);
    expect((await vault('POST', `auth/${approleMount}/role/ci`, { token_policies: [policy], token_ttl: '60s', token_max_ttl: '120s' })).status).to.equal(204);
    const roleId = ((await (await vault('GET', `auth/${approleMount}/role/ci/role-id`)).json()) as { data: { role_id: string } }).data.role_id;
    const secretId = ((await (await vault('POST', `auth/${approleMount}/role/ci/secret-id`, {})).json()) as { data: { secret_id: string } }).data.secret_id;
    await writeFile(join(dir, 'role-id'), `${roleId}\n`);
    await writeFile(join(dir, 'secret-id'), `${secretId}\n`);
    const env = { ...bare, VAULT_ROLE_ID_FILE: join(dir, 'role-id'), VAULT_SECRET_ID_FILE: join(dir, 'secret-id'), VAULT_APPROLE_MOUNT: approleMount };

    const ok = await cli(['secrets', 'get', `secret/${base}/app`, '--field', 'v'], env);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).to.equal(value);

    const denied = await cli(['secrets', 'get', `secret/${base}/other`], env);
    expect(denied.code, denied.stderr).to.equal(ExitCode.gate);
    expect(denied.stderr).to.contain(`permission denied on secret/data/${base}/other (AppRole login)`);
    expect(denied.stderr).not.to.contain('other"');

    const wrong = `0000${secretId.slice(4)}`;
    await writeFile(join(dir, 'secret-id-wrong'), wrong);
    const bad = await cli(['secrets', 'get', `secret/${base}/app`], { ...env, VAULT_SECRET_ID_FILE: join(dir, 'secret-id-wrong') });
    expect(bad.code, bad.stderr).to.equal(ExitCode.unreachable);
    expect(bad.stderr).to.contain(`AppRole login at auth/${approleMount}/login refused`);
    for (const s of [wrong, secretId, roleId]) expect(bad.stderr + bad.stdout).not.to.contain(s);

    // The session revokes the token it logged in for: the role's token count is back to none.
    const root = createClients(resolveConfig({ env, home: dir })).vault;
    const session = await vaultLogin(root);
    const t = session.config.token!;
    expect(session.method).to.equal('approle');
    // The session's client is derived from the root one; the root keeps no token.
    expect(session.client).to.not.equal(root);
    expect(session.client.client.config.address).to.equal(root.client.config.address);
    expect(root.client.config.token).to.equal(undefined);
    expect(root.client.api.token).to.not.equal(t);
    expect((await session.client.kv.read(`secret/${base}/app`))?.data['v']).to.equal(value);
    await session.close();
    const after = await fetch(`${stack.config.vault.address}/v1/auth/token/lookup-self`, { headers: { 'X-Vault-Token': t } });
    expect(after.status).to.equal(403);
  });

  it('JWT: a token signed by a key the mount trusts logs in and reads; an expired JWT is exit 2, never printed', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect((await vault('POST', `sys/auth/${jwtMount}`, { type: 'jwt' })).status).to.equal(204);
    expect((await vault('POST', `auth/${jwtMount}/config`, { jwt_validation_pubkeys: [publicKey.export({ type: 'spki', format: 'pem' })] })).status).to.equal(
      204,
    );
    expect(
      (
        await vault('POST', `auth/${jwtMount}/role/ci`, {
          role_type: 'jwt',
          bound_audiences: ['hashiship-ci'],
          user_claim: 'sub',
          token_policies: [policy],
          token_ttl: '60s',
        })
      ).status,
    ).to.equal(204);
    const jwt = (exp: number): string => {
      const head = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
      const now = Math.floor(Date.now() / 1000);
      const body = b64url(JSON.stringify({ sub: `ci-${run}`, aud: 'hashiship-ci', iat: now - 10, nbf: now - 10, exp: now + exp }));
      return `${head}.${body}.${b64url(sign('sha256', Buffer.from(`${head}.${body}`), privateKey))}`;
    };
    const good = jwt(300);
    await writeFile(join(dir, 'jwt'), good);
    const env = { ...bare, VAULT_JWT_FILE: join(dir, 'jwt'), VAULT_JWT_ROLE: 'ci', VAULT_JWT_MOUNT: jwtMount };
    const ok = await cli(['secrets', 'get', `secret/${base}/app`, '--field', 'v'], env);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).to.equal(value);

    const expired = jwt(-120);
    const bad = await cli(['secrets', 'get', `secret/${base}/app`], { ...bare, VAULT_JWT: expired, VAULT_JWT_ROLE: 'ci', VAULT_JWT_MOUNT: jwtMount });
    expect(bad.code, bad.stderr).to.equal(ExitCode.unreachable);
    expect(bad.stderr).to.contain(`JWT login at auth/${jwtMount}/login refused`);
    expect(bad.stderr + bad.stdout).not.to.contain(expired.split('.')[2]!);
  });

  it('renewal: a periodic 3 s token keeps working over an 8 s run; without renewal it expires and the error names the method, not the token', async () => {
    const renewed = await token({ period: '3s' });
    const config: VaultConfig = { ...stack.config.vault, token: renewed, tokenSource: 'VAULT_TOKEN' };
    const root = createClients({ ...stack.config, vault: config }).vault;
    const reads = await withVault(root, async (s) => {
      // A given token: the session uses the root client itself.
      expect(s.client).to.equal(root);
      let n = 0;
      const end = Date.now() + 8_000;
      while (Date.now() < end) {
        expect((await s.client.kv.read(`secret/${base}/app`))?.data['v']).to.equal(value);
        n++;
        await sleep(400);
      }
      expect(s.renewals).to.be.at.least(3);
      return n;
    });
    expect(reads).to.be.greaterThan(10);

    const unrenewed = await token({ period: '3s' });
    const c2: VaultConfig = { ...stack.config.vault, token: unrenewed, tokenSource: 'VAULT_TOKEN' };
    const err = await withVault(
      createClients({ ...stack.config, vault: c2 }).vault,
      async (s) => {
        await sleep(4_500);
        return s.client.kv.read(`secret/${base}/app`);
      },
      { renew: false },
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ServerError);
    const text = (err as ServerError).describe();
    expect((err as ServerError).exitCode).to.equal(ExitCode.unreachable);
    expect(text).to.contain('the Vault token is expired, revoked or unknown to this Vault (token from VAULT_TOKEN)');
    expect(`${text} ${String((err as Error).stack)}`).not.to.contain(unrenewed);
  });

  it('renewal of an AppRole token past its max TTL (3 s ttl, 5 s max) logs in again; a 9 s run keeps reading', async () => {
    await vault('POST', `sys/auth/${approleMount}`, { type: 'approle' }); // idempotent when the first test ran
    expect((await vault('POST', `auth/${approleMount}/role/short`, { token_policies: [policy], token_ttl: '3s', token_max_ttl: '5s' })).status).to.equal(204);
    const roleId = ((await (await vault('GET', `auth/${approleMount}/role/short/role-id`)).json()) as { data: { role_id: string } }).data.role_id;
    const secretId = ((await (await vault('POST', `auth/${approleMount}/role/short/secret-id`, {})).json()) as { data: { secret_id: string } }).data.secret_id;
    const config = resolveConfig({ env: { ...bare, VAULT_ROLE_ID: roleId, VAULT_SECRET_ID: secretId, VAULT_APPROLE_MOUNT: approleMount }, home: dir }).vault;
    const tokens = new Set<string>();
    await withVault(createClients({ ...stack.config, vault: config }).vault, async (s) => {
      const end = Date.now() + 9_000;
      while (Date.now() < end) {
        tokens.add(s.config.token!);
        expect((await s.client.kv.read(`secret/${base}/app`))?.data['v']).to.equal(value);
        await sleep(400);
      }
      expect(s.renewals).to.be.at.least(3);
    });
    // The max TTL (5 s) ended the first token within the run: a second login replaced it.
    expect(tokens.size).to.be.at.least(2);
  });

  it('a revoked token is exit 2 naming the auth method; a denied path through the library is a GateError naming it', async () => {
    const t = await token({ ttl: '60s' });
    expect((await vault('POST', 'auth/token/revoke', { token: t })).status).to.equal(204);
    const r = await cli(['secrets', 'get', `secret/${base}/app`], { ...bare, VAULT_TOKEN: t });
    expect(r.code, r.stderr).to.equal(ExitCode.unreachable);
    expect(r.stderr).to.contain('expired, revoked or unknown to this Vault (token from VAULT_TOKEN)');
    expect(r.stderr + r.stdout).not.to.contain(t);

    const live = await token({ ttl: '60s' });
    const err = await createClients({ ...stack.config, vault: { ...stack.config.vault, token: live, tokenSource: 'VAULT_TOKEN' } })
      .vault.kv.read(`secret/${base}/other`)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(GateError);
    expect((err as GateError).exitCode).to.equal(ExitCode.gate);
    expect((err as GateError).message).to.equal(`vault: kv.read: permission denied on secret/data/${base}/other (token from VAULT_TOKEN)`);
    expect((err as GateError).describe()).not.to.contain(live);
  });

  describe('a sealed Vault (a second dev Vault started by this test)', () => {
    let proc: ChildProcess | undefined;
    let addr = '';
    let root = '';
    let unsealKey = '';

    before(async function () {
      this.timeout(60_000);
      // The stack's own Vault binary (from its state), started on another port.
      const binary = (stack.env['HASHISHIP_STACK_BIN'] ?? '')
        .split(':')
        .map((d) => join(d, 'vault'))
        .find((f) => existsSync(f));
      if (binary === undefined) throw new Error(`no vault binary in ${stack.env['HASHISHIP_STACK_BIN']}`);
      const port = await new Promise<number>((resolve) => {
        const s = createServer().listen(0, '127.0.0.1', () => {
          const p = (s.address() as { port: number }).port;
          s.close(() => resolve(p));
        });
      });
      addr = `http://127.0.0.1:${port}`;
      root = `root-${run}`;
      proc = spawn(binary, ['server', '-dev', `-dev-listen-address=127.0.0.1:${port}`, `-dev-root-token-id=${root}`], {
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
        env: { PATH: process.env['PATH'] ?? '', HOME: dir },
      });
      let out = '';
      proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
      const deadline = Date.now() + 30_000;
      while (!/Unseal Key: \S+/.test(out) || (await fetch(`${addr}/v1/sys/health`).catch(() => undefined))?.status !== 200) {
        if (Date.now() > deadline) throw new Error(`second Vault did not start:\n${out.slice(-800)}`);
        await sleep(200);
      }
      unsealKey = /Unseal Key: (\S+)/.exec(out)![1]!;
    });

    after(() => {
      if (proc?.pid !== undefined) {
        try {
          process.kill(-proc.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    });

    it('is exit 2 saying "sealed" with the path; after unseal the same read works', async () => {
      const h = { 'X-Vault-Token': root };
      expect((await fetch(`${addr}/v1/secret/data/app`, { method: 'POST', headers: h, body: JSON.stringify({ data: { v: value } }) })).status).to.equal(200);
      expect((await fetch(`${addr}/v1/sys/seal`, { method: 'PUT', headers: h })).status).to.equal(204);
      const env = { ...bare, VAULT_ADDR: addr, VAULT_TOKEN: root };
      const sealed = await cli(['secrets', 'get', 'secret/app', '--field', 'v'], env);
      expect(sealed.code, sealed.stderr).to.equal(ExitCode.unreachable);
      expect(sealed.stderr).to.contain('503: Vault is sealed');
      expect(sealed.stderr).to.match(/Path: +auth\/token\/lookup-self$/m);
      expect(sealed.stderr).to.contain('unseal it (vault operator unseal)');
      expect(sealed.stderr + sealed.stdout).not.to.contain(root);

      expect((await fetch(`${addr}/v1/sys/unseal`, { method: 'PUT', body: JSON.stringify({ key: unsealKey }) })).status).to.equal(200);
      const ok = await cli(['secrets', 'get', 'secret/app', '--field', 'v'], env);
      expect(ok.code, ok.stderr).to.equal(0);
      expect(ok.stdout).to.equal(value);
    });
  });
});
