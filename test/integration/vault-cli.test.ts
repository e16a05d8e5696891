/**
 * `hashiship secrets policy|check` as a user runs them, against the stack's real
 * Vault and Consul, on a copy of the billing example whose secret paths are unique
 * to the run; everything written is removed afterwards.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { useStack, type TestStack } from '../helpers/stack.js';

const exec = promisify(execFile);
const run = randomBytes(3).toString('hex');
const base = `hs-cli-${run}`;
const envName = `cli${run}`;
const role = `billing-${run}`;

async function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env: { ...process.env, ...env }, timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function vaultHttp(stack: TestStack, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${stack.config.vault.address}/v1/${path}`, {
    method,
    headers: { 'X-Vault-Token': stack.env['VAULT_TOKEN'] ?? '' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe('cli: hashiship secrets (real Vault and Consul)', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let dir: string;
  let flags: string[];

  before(async () => {
    stack = await useStack();
    dir = await mkdtemp(join(tmpdir(), 'hashiship-secrets-'));
    await mkdir(join(dir, 'services'));
    await mkdir(join(dir, 'environments'));
    const billing = (await readFile('jobs/services/billing.yaml', 'utf8')).replaceAll('secret/data/billing/', `secret/data/${base}/billing/`);
    await writeFile(join(dir, 'services', 'billing.yaml'), billing);
    await writeFile(
      join(dir, 'environments', `${envName}.yaml`),
      [`name: ${envName}`, 'datacenters: [dc1]', 'registry: 127.0.0.1:5001', 'services:', '  billing:', `    vault_role: ${role}`, ''].join('\n'),
    );
    flags = ['--env', envName, '--services', join(dir, 'services'), '--environments', join(dir, 'environments')];
  });

  after(async () => {
    if (stack !== undefined) {
      for (const p of [
        `secret/metadata/${base}/billing/stripe`,
        `secret/metadata/${base}/billing/tls`,
        `sys/policies/acl/hashiship-${envName}-billing`,
        `auth/jwt-nomad/role/${role}`,
      ]) {
        await vaultHttp(stack, 'DELETE', p);
      }
    }
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('check is exit 6 listing each missing and denied path; apply then check passes; a bad token is exit 2 without the token', async () => {
    await vaultHttp(stack, 'POST', `secret/data/${base}/billing/stripe`, { data: { 'api-key': `sk-${run}` } });

    const before = await cli(['secrets', 'check', ...flags], stack.env);
    expect(before.code, before.stderr).to.equal(6);
    expect(before.stderr).to.contain(`secret/data/${base}/billing/tls#keystore  missing`);
    expect(before.stderr).to.contain(`secret/data/${base}/billing/stripe#api-key  denied`);
    expect(before.stderr).not.to.contain(`sk-${run}`);

    const applied = await cli(['secrets', 'policy', '--apply', ...flags], stack.env);
    expect(applied.code, applied.stderr).to.equal(0);
    expect(applied.stdout).to.contain(`path "secret/data/${base}/billing/stripe" {\n  capabilities = ["read"]\n}`);
    expect(applied.stdout).to.contain(`wrote sys/policies/acl/hashiship-${envName}-billing and auth/jwt-nomad/role/${role}`);

    await vaultHttp(stack, 'POST', `secret/data/${base}/billing/tls`, { data: { keystore: 'AAAA' } });
    const after = await cli(['secrets', 'check', ...flags], stack.env);
    expect(after.code, after.stderr).to.equal(0);
    expect(after.stdout).to.match(/^secrets: 2 references of 1 services present and readable \(\d+ ms\)\n$/);

    const bogus = `hvs.bogus-${run}`;
    const bad = await cli(['secrets', 'check', ...flags], { ...stack.env, VAULT_TOKEN: bogus });
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.contain('the Vault token is expired, revoked or unknown to this Vault (token from VAULT_TOKEN)');
    expect(bad.stderr).to.match(/Path: +auth\/token\/lookup-self$/m);
    expect(bad.stderr + bad.stdout).not.to.contain(bogus);
  });
});
