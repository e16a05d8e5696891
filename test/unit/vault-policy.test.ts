/** Per-service Vault policies and JWT roles from specs (pure). */
import { expect } from 'chai';
import type { ServiceSpec } from '../../src/service-spec/types.js';
import {
  capabilityOf,
  jwtRole,
  kvVersionOf,
  policyHcl,
  referencesOf,
  secretBlockPath,
  servicePolicies,
  servicePolicy,
  sharedRoles,
} from '../../src/vault/policy.js';

const web: ServiceSpec = {
  name: 'web',
  groups: [
    {
      name: 'web',
      tasks: [
        {
          name: 'app',
          secrets: [
            { env: 'DATABASE_PASSWORD', path: 'secret/data/storefront/db', key: 'password' },
            { env: 'DATABASE_USER', path: 'secret/data/storefront/db', key: 'user' },
            { file: 'secrets/legacy.txt', path: 'kv1/storefront/legacy', key: 'token' },
          ],
          kv: [{ env: 'FLAGS', key: 'storefront/web/flags' }],
          templates: [{ destination: 'local/extra.conf', data: '{{ with secret "secret/data/storefront/extra" }}{{ .Data.data.x }}{{ end }}' }],
        },
      ],
    },
  ],
};

describe('vault policy (pure)', () => {
  it('is read-only on exactly the service secret paths, sorted and deduplicated (exact text)', () => {
    const p = servicePolicy({ spec: web, environment: { name: 'qa' } });
    expect(p.name).to.equal('hashiship-qa-web');
    expect(p.role).to.equal('hashiship-qa-web');
    expect(p.jobId).to.equal('web');
    expect(p.hcl).to.equal(
      [
        '# hashiship: read-only secrets of web',
        'path "kv1/storefront/legacy" {',
        '  capabilities = ["read"]',
        '}',
        '',
        'path "secret/data/storefront/db" {',
        '  capabilities = ["read"]',
        '}',
        '',
        'path "secret/data/storefront/extra" {',
        '  capabilities = ["read"]',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('collects secret and KV references with their KV version; template references without a key', () => {
    const r = referencesOf({ spec: web });
    expect(r.secrets).to.deep.equal([
      { path: 'secret/data/storefront/db', key: 'password', kvVersion: 2, capability: 'read' },
      { path: 'secret/data/storefront/db', key: 'user', kvVersion: 2, capability: 'read' },
      { path: 'kv1/storefront/legacy', key: 'token', kvVersion: 1, capability: 'read' },
      { path: 'secret/data/storefront/extra', kvVersion: 2, capability: 'read' },
    ]);
    expect(r.kv).to.deep.equal([{ key: 'storefront/web/flags' }]);
    expect(kvVersionOf('secret/data/a')).to.equal(2);
    expect(kvVersionOf('secret/a/data')).to.equal(1);
  });

  it("grants the paths of a task's Nomad 1.11 secret blocks with the vault provider (Nomad reads them with the job's token), not other providers'", () => {
    // Regression: the policy covered `secrets` and templates only, so a job whose task had
    // `secret_blocks: {db: {provider: vault, …}}` was denied its secret at run time.
    const spec: ServiceSpec = {
      name: 'payments',
      groups: [
        {
          name: 'api',
          tasks: [
            {
              name: 'api',
              secret_blocks: {
                db: { provider: 'vault', path: 'secret/data/payments/db', config: { engine: 'kv_v2' } },
                // consul-template inserts data/ after the mount of a KV v2 engine: that is the path read.
                cards: { provider: 'vault', path: 'secret/payments/cards', config: { engine: 'kv_v2' } },
                legacy: { provider: 'vault', path: '/kv1/payments/legacy' },
                limits: { provider: 'nomad', path: 'nomad/jobs/payments/api/limits' },
                custom: { provider: 'acme', path: 'acme/payments', env: { ACME_REGION: 'eu' } },
              },
            },
          ],
        },
      ],
    };
    expect(referencesOf({ spec }).secrets).to.deep.equal([
      { path: 'secret/data/payments/db', kvVersion: 2, capability: 'read' },
      { path: 'secret/data/payments/cards', kvVersion: 2, capability: 'read' },
      { path: 'kv1/payments/legacy', kvVersion: 1, capability: 'read' },
    ]);
    const p = servicePolicy({ spec, environment: { name: 'qa' } });
    expect(p.paths).to.deep.equal(['kv1/payments/legacy', 'secret/data/payments/cards', 'secret/data/payments/db']);
    expect(p.hcl).to.include('path "secret/data/payments/cards" {\n  capabilities = ["read"]\n}\n');
    expect(servicePolicies([{ spec, environment: { name: 'qa' } }]).map((x) => x.name)).to.deep.equal(['hashiship-qa-payments']);
    expect(secretBlockPath({ path: 'secret/data/x' })).to.equal('secret/data/x');
    expect(secretBlockPath({ path: 'kv/x', config: { engine: 'kv' } })).to.equal('kv/x');
  });

  it('PKI issue and sign paths get update (Vault only answers them to a write), everything else read', () => {
    expect(capabilityOf('pki/issue/storefront')).to.equal('update');
    expect(capabilityOf('pki_int/sign/web')).to.equal('update');
    expect(capabilityOf('secret/data/issue/x')).to.equal('read');
    expect(capabilityOf('secret/data/pki/issue')).to.equal('read');
    expect(policyHcl('web', ['pki/issue/storefront', 'secret/data/storefront/db'])).to.equal(
      [
        '# hashiship: secrets (read; update to issue certificates) of web',
        'path "pki/issue/storefront" {',
        '  capabilities = ["update"]',
        '}',
        '',
        'path "secret/data/storefront/db" {',
        '  capabilities = ["read"]',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('every service with secrets in the qa and production environments has its own role', async () => {
    const { readSpecFiles } = await import('../../src/service-spec/files.js');
    const { loadSet, resolveEnvironment } = await import('../../src/service-spec/load.js');
    const set = loadSet(await readSpecFiles(['jobs/services', 'jobs/environments']));
    for (const env of ['qa', 'production']) {
      const policies = servicePolicies(resolveEnvironment(set, env));
      expect(policies.length, env).to.be.greaterThan(4);
      expect(sharedRoles(policies), env).to.deep.equal([]);
    }
  });

  it('the JWT role binds the job ID to the policy with a 30m periodic service token', () => {
    expect(jwtRole(servicePolicy({ spec: web, environment: { name: 'qa' } }))).to.deep.equal({
      role_type: 'jwt',
      bound_audiences: ['vault.io'],
      bound_claims: { nomad_job_id: 'web' },
      user_claim: '/nomad_job_id',
      user_claim_json_pointer: true,
      claim_mappings: { nomad_job_id: 'nomad_job_id', nomad_namespace: 'nomad_namespace', nomad_task: 'nomad_task' },
      token_policies: ['hashiship-qa-web'],
      token_type: 'service',
      token_period: '30m',
    });
  });

  it('uses the service vault_role as the role name; services without secrets get no policy; shared roles are found', () => {
    const plain: ServiceSpec = { name: 'plain', groups: [{ name: 'g', tasks: [{ name: 't' }] }] };
    const other: ServiceSpec = { ...web, name: 'other' };
    const ps = servicePolicies([
      { spec: web, vaultRole: 'shared' },
      { spec: plain, vaultRole: 'shared' },
      { spec: other, vaultRole: 'shared' },
    ]);
    expect(ps.map((p) => [p.name, p.role])).to.deep.equal([
      ['hashiship-web', 'shared'],
      ['hashiship-other', 'shared'],
    ]);
    expect(sharedRoles(ps)).to.deep.equal([['shared', ['web', 'other']]]);
  });
});
