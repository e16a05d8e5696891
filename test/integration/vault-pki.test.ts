/**
 * PKI issue paths against the real Vault, on a PKI engine mounted for this run
 * (unique path, removed afterwards): the generated policy grants `update` on
 * `<mount>/issue/<role>` (Vault issues only on a write), and with it a token of
 * that policy really issues a certificate while a read-only grant is refused; the
 * pre-flight reports the path `missing` until the PKI role exists and `denied`
 * until the policy is applied. End to end: a batch job rendered from a spec whose
 * certificate and key come from the issue path with parameters gets, at run time,
 * a certificate for the requested name whose key is the one written beside it.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { renderAll } from '../../src/nomad/render.js';
import { loadSet, resolveEnvironment } from '../../src/service-spec/load.js';
import type { ServiceSpec } from '../../src/service-spec/types.js';
import { servicePolicy } from '../../src/vault/policy.js';
import { applyPolicies, preflight } from '../../src/vault/preflight.js';
import { useStack, type TestStack } from '../helpers/stack.js';
import { vaultApi } from '../helpers/vault.js';

const run = randomBytes(3).toString('hex');
const mount = `pki-hs-${run}`;
const svc = `hs-pki-${run}`;
const issuePath = `${mount}/issue/web`;

describe('vault PKI issue paths: update capability (real Vault)', function () {
  this.timeout(60_000);
  let stack: TestStack;
  let vault: ReturnType<typeof vaultApi>;
  const spec: ServiceSpec = {
    name: svc,
    groups: [{ name: 'g', tasks: [{ name: 't', secrets: [{ file: 'secrets/cert.pem', path: issuePath, key: 'certificate' }] }] }],
  };
  const policy = servicePolicy({ spec, environment: { name: 'pki' } });

  before(async () => {
    stack = await useStack();
    vault = vaultApi(stack);
    expect((await vault('POST', `sys/mounts/${mount}`, { type: 'pki', config: { max_lease_ttl: '1h' } })).status).to.equal(204);
    expect((await vault('POST', `${mount}/root/generate/internal`, { common_name: 'hashiship test CA', ttl: '1h' })).status).to.equal(200);
  });

  after(async () => {
    if (stack === undefined) return;
    await vault('DELETE', `sys/mounts/${mount}`);
    await vault('DELETE', `sys/policies/acl/${policy.name}`);
    await vault('DELETE', `sys/policies/acl/${svc}-ro`);
    await vault('DELETE', `auth/jwt-nomad/role/${policy.role}`);
  });

  it('the policy grants update on the issue path; pre-flight: missing role, then denied, then clean; the policy token issues a certificate, a read-only one cannot', async () => {
    expect(policy.hcl).to.contain(`path "${issuePath}" {\n  capabilities = ["update"]\n}`);
    const config = stack.clients;

    const noRole = await preflight(config, [policy]);
    expect(noRole.problems.map((p) => `${p.path} ${p.reason}`)).to.deep.equal([`${issuePath} missing`, `${issuePath} denied`]);

    expect((await vault('POST', `${mount}/roles/web`, { allowed_domains: ['example.com'], allow_subdomains: true, max_ttl: '10m' })).status).to.be.oneOf([
      200, 204,
    ]);
    const noPolicy = await preflight(config, [policy]);
    expect(noPolicy.problems.map((p) => `${p.path} ${p.reason}`)).to.deep.equal([`${issuePath} denied`]);

    await applyPolicies(stack.clients.vault, [policy]);
    expect((await preflight(config, [policy])).problems).to.deep.equal([]);

    // What the grant means: a token holding only this policy issues a certificate (a write), and may not read the path.
    const created = await vault('POST', 'auth/token/create', { policies: [policy.name], no_default_policy: true, ttl: '60s' });
    const token = ((await created.json()) as { auth: { client_token: string } }).auth.client_token;
    const issue = await fetch(`${stack.config.vault.address}/v1/${issuePath}`, {
      method: 'POST',
      headers: { 'X-Vault-Token': token },
      body: JSON.stringify({ common_name: 'web.example.com', ttl: '5m' }),
    });
    expect(issue.status).to.equal(200);
    expect(((await issue.json()) as { data: { certificate: string } }).data.certificate).to.match(/^-----BEGIN CERTIFICATE-----/);
    expect((await fetch(`${stack.config.vault.address}/v1/${issuePath}`, { headers: { 'X-Vault-Token': token } })).status).to.not.equal(200);
    await vault('POST', 'auth/token/revoke', { token });

    // The old read-only grant on the same path: Vault refuses to issue.
    expect((await vault('PUT', `sys/policies/acl/${svc}-ro`, { policy: `path "${issuePath}" {\n  capabilities = ["read"]\n}\n` })).status).to.equal(204);
    const ro = await vault('POST', 'auth/token/create', { policies: [`${svc}-ro`], no_default_policy: true, ttl: '60s' });
    const roToken = ((await ro.json()) as { auth: { client_token: string } }).auth.client_token;
    const refused = await fetch(`${stack.config.vault.address}/v1/${issuePath}`, {
      method: 'POST',
      headers: { 'X-Vault-Token': roToken },
      body: JSON.stringify({ common_name: 'web.example.com', ttl: '5m' }),
    });
    expect(refused.status).to.equal(403);
    await vault('POST', 'auth/token/revoke', { token: roToken });
  });

  it('a job rendered from the spec gets a certificate for the name in params, with the matching key', async function () {
    this.timeout(150_000);
    const name = `${svc}-tls`;
    const env = 'pkie2e';
    const params = '{common_name: web.example.com, ttl: 5m}';
    // The task compares the public key of the certificate with the one of the key file.
    const script =
      'a=$(openssl x509 -noout -pubkey -in secrets/cert.pem | sha256sum); b=$(openssl pkey -pubout -in secrets/key.pem | sha256sum); [ "$a" = "$b" ] && echo pair=match || echo pair=mismatch; openssl x509 -noout -subject -in secrets/cert.pem';
    const set = loadSet([
      {
        file: `${name}.yaml`,
        kind: 'service',
        text: [
          `name: ${name}`,
          'type: batch',
          'groups:',
          '  - name: g',
          '    restart: {attempts: 0, interval: 1m, delay: 1s, mode: fail}',
          '    tasks:',
          '      - name: t',
          '        driver: raw_exec',
          '        command: /bin/sh',
          `        args: ["-c", ${JSON.stringify(script)}]`,
          '        secrets:',
          `          - {file: secrets/cert.pem, path: ${issuePath}, key: certificate, params: ${params}}`,
          `          - {file: secrets/key.pem, path: ${issuePath}, key: private_key, params: ${params}}`,
          '        resources: {cpu: 50, memory: 64}',
        ].join('\n'),
      },
      {
        file: `${env}.yaml`,
        kind: 'environment',
        text: [`name: ${env}`, 'datacenters: ["*"]', 'services:', `  ${name}:`, `    vault_role: ${name}`].join('\n'),
      },
    ]);
    expect(set.problems).to.deep.equal([]);
    const resolved = resolveEnvironment(set, env);
    const tlsPolicy = servicePolicy(resolved[0]!);
    await applyPolicies(stack.clients.vault, [tlsPolicy]);
    const [rendered] = renderAll(resolved);
    const id = rendered!.job.ID;
    const ns = rendered!.job.Namespace ?? 'default';
    const nomad = (method: string, path: string, body?: unknown) =>
      fetch(`${stack.config.nomad.address}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    try {
      const reg = await nomad('POST', '/v1/jobs', { Job: rendered!.job });
      expect(reg.status, await reg.clone().text()).to.equal(200);
      const deadline = Date.now() + 90_000;
      let alloc: { ID: string; ClientStatus: string; TaskStates?: unknown } | undefined;
      while (alloc?.ClientStatus !== 'complete') {
        const list = (await (await nomad('GET', `/v1/job/${id}/allocations?namespace=${ns}`)).json()) as {
          ID: string;
          ClientStatus: string;
          TaskStates?: unknown;
        }[];
        alloc = list[0];
        if (alloc?.ClientStatus === 'failed') throw new Error(`allocation failed: ${JSON.stringify(alloc.TaskStates)}`);
        if (Date.now() > deadline) throw new Error(`no complete allocation in 90 s: ${JSON.stringify(list)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
      const out = await (await nomad('GET', `/v1/client/fs/logs/${alloc.ID}?task=t&type=stdout&plain=true&origin=start`)).text();
      expect(out).to.contain('pair=match');
      expect(out).to.match(/subject=.*CN ?= ?web\.example\.com/);
    } finally {
      await nomad('DELETE', `/v1/job/${id}?purge=true&namespace=${ns}`);
      await vault('DELETE', `sys/policies/acl/${tlsPolicy.name}`);
      await vault('DELETE', `auth/jwt-nomad/role/${tlsPolicy.role}`);
    }
  });
});
