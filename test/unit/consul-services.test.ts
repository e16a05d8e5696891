/**
 * The pure halves of `register` and `kv sync`: what the agent should hold for a
 * set of external specs, the plan against what it holds, and the config-key plan.
 * (The writes themselves are tested against real Consul in consul-register and
 * consul-acl.)
 */
import { expect } from 'chai';
import { CONFIG_FLAGS, configFlags, planConfig, writtenByHashiship } from '../../src/consul/config.js';
import { desiredRegistrations, OwnerMeta, planServices, type LiveService } from '../../src/consul/services.js';
import { ExitCode, GateError } from '../../src/errors.js';
import { secretLooking } from '../../src/service-spec/external.js';
import { loadSet, resolveEnvironment, resolveExternals } from '../../src/service-spec/load.js';
import type { ExternalSpec } from '../../src/service-spec/types.js';

const spec = (over: Partial<ExternalSpec> = {}): { spec: ExternalSpec } => ({
  spec: { kind: 'external', name: 'pg', address: '10.0.0.5', port: 5432, ...over },
});

/** A live service exactly as the agent reports what `desiredRegistrations` asked for. */
function liveOf(r: ReturnType<typeof desiredRegistrations>[number]): LiveService {
  return {
    id: r.id,
    name: r.name,
    address: r.address,
    port: r.port,
    tags: r.tags,
    meta: r.meta,
    checks: r.checks.map((c) => ({ id: c.id, name: c.name, type: c.type, interval: c.interval ?? '', timeout: c.timeout ?? '' })),
  };
}

describe('consul: external service registrations', () => {
  it('turns each check type into the target the agent checks, with ownership marks', () => {
    const [r] = desiredRegistrations('qa', [
      spec({
        checks: [
          { type: 'http', path: '/health', protocol: 'https', port: 8443, tls_skip_verify: true },
          { type: 'tcp', interval: '5s', timeout: '1s', deregister_critical_service_after: '30m' },
          { type: 'grpc', grpc_service: 'grpc.health.v1.Health', grpc_use_tls: true },
          { type: 'ttl', ttl: '30s', name: 'heartbeat' },
        ],
      }),
    ]);
    expect(r!.id).to.equal('pg-qa');
    expect(r!.meta).to.include({ [OwnerMeta.tool]: 'hashiship', [OwnerMeta.environment]: 'qa' });
    expect(r!.checks).to.deep.equal([
      {
        id: 'pg-qa:pg-http',
        name: 'pg-http',
        type: 'http',
        target: 'https://10.0.0.5:8443/health',
        interval: '10s',
        timeout: '2s',
        method: 'GET',
        tlsSkipVerify: true,
      },
      { id: 'pg-qa:pg-tcp', name: 'pg-tcp', type: 'tcp', target: '10.0.0.5:5432', interval: '5s', timeout: '1s', deregisterAfter: '30m' },
      { id: 'pg-qa:pg-grpc', name: 'pg-grpc', type: 'grpc', target: '10.0.0.5:5432/grpc.health.v1.Health', interval: '10s', timeout: '2s', grpcUseTls: true },
      { id: 'pg-qa:heartbeat', name: 'heartbeat', type: 'ttl', target: '', ttl: '30s' },
    ]);
    const [v6] = desiredRegistrations('qa', [spec({ address: 'fd00::5', checks: [{ type: 'tcp' }] })]);
    expect(v6!.checks[0]!.target).to.equal('[fd00::5]:5432');
  });

  it('plans nothing when the agent holds what the specs say', () => {
    const want = desiredRegistrations('qa', [spec({ checks: [{ type: 'tcp' }] })]);
    expect(planServices('qa', want, want.map(liveOf))).to.deep.equal({ changes: [], unchanged: ['pg-qa'] });
  });

  it('an update names the fields that differ, including a check whose target only the digest shows', () => {
    const before = desiredRegistrations('qa', [spec({ checks: [{ type: 'http', path: '/a' }] })]);
    const after = desiredRegistrations('qa', [spec({ port: 6432, checks: [{ type: 'http', path: '/b' }] })]);
    const { changes } = planServices('qa', after, before.map(liveOf));
    expect(changes).to.have.length(1);
    expect(changes[0]!.action).to.equal('update');
    expect(changes[0]!.fields).to.deep.equal([
      { field: 'port', from: 5432, to: 6432 },
      { field: 'checks.pg-http', from: 'http every 10s timeout 2s', to: 'http GET http://10.0.0.5:6432/b every 10s timeout 2s' },
    ]);
  });

  it('removes only what it owns in this environment; another environment and foreign services stay', () => {
    const mine = desiredRegistrations('qa', [spec({ name: 'old' })]).map(liveOf);
    const otherEnv = desiredRegistrations('production', [spec({ name: 'old' })]).map(liveOf);
    const foreign: LiveService = { id: 'web-1', name: 'web', address: '', port: 80, tags: [], meta: {}, checks: [] };
    const { changes } = planServices('qa', [], [...mine, ...otherEnv, foreign]);
    expect(changes.map((c) => `${c.action} ${c.id}`)).to.deep.equal(['remove old-qa']);
  });

  it('an ID held by a registration it does not own is exit 6, before any write', () => {
    const want = desiredRegistrations('qa', [spec()]);
    const squatter: LiveService = { id: 'pg-qa', name: 'pg', address: '10.9.9.9', port: 1, tags: [], meta: { owner: 'ops' }, checks: [] };
    let err: unknown;
    try {
      planServices('qa', want, [squatter]);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(GateError);
    expect((err as GateError).exitCode).to.equal(ExitCode.gate);
    expect((err as GateError).describe()).to.include('pg-qa (not registered by hashiship)');
  });
});

describe('consul: configuration keys', () => {
  it('adds with cas 0, updates with the index read, removes only flagged keys no longer listed', () => {
    const { changes, unchanged } = planConfig(
      [{ service: 'web', config: { a: '1', b: '2', c: '3' } }],
      [
        { key: 'config/web/b', value: '2', modifyIndex: 7, flags: CONFIG_FLAGS },
        { key: 'config/web/c', value: 'old', modifyIndex: 8, flags: CONFIG_FLAGS },
        { key: 'config/web/gone', value: 'x', modifyIndex: 9, flags: CONFIG_FLAGS },
        { key: 'config/web/by-hand', value: 'y', modifyIndex: 10, flags: 0 },
      ],
    );
    expect(changes).to.deep.equal([
      { action: 'add', key: 'config/web/a', service: 'web', cas: 0, to: '1' },
      { action: 'update', key: 'config/web/c', service: 'web', cas: 8, from: 'old', to: '3' },
      { action: 'remove', key: 'config/web/gone', service: 'web', cas: 9, from: 'x' },
    ]);
    expect(unchanged).to.deep.equal(['config/web/b']);
  });

  it("with an environment: removes that environment's keys of a service no longer listed, nothing else", () => {
    const qa = configFlags('qa');
    const production = configFlags('production');
    expect(qa).to.not.equal(production);
    expect([qa, production, CONFIG_FLAGS].every(writtenByHashiship)).to.equal(true);
    expect([0, 1, CONFIG_FLAGS + 1, qa * 2].some(writtenByHashiship)).to.equal(false);
    const { changes } = planConfig(
      [{ service: 'web', config: { a: '1' } }],
      [
        { key: 'config/web/a', value: '1', modifyIndex: 3, flags: production },
        { key: 'config/old/x', value: 'x', modifyIndex: 4, flags: qa },
        { key: 'config/old/y', value: 'y', modifyIndex: 5, flags: production },
        { key: 'config/old/z', value: 'z', modifyIndex: 6, flags: CONFIG_FLAGS },
        { key: 'config/old/by-hand', value: 'h', modifyIndex: 7, flags: 0 },
        { key: 'config/web/gone', value: 'g', modifyIndex: 8, flags: production },
      ],
      'qa',
    );
    expect(changes).to.deep.equal([
      { action: 'remove', key: 'config/old/x', service: 'old', cas: 4, from: 'x' },
      { action: 'remove', key: 'config/web/gone', service: 'web', cas: 8, from: 'g' },
    ]);
  });

  it('refuses secret-looking configuration by name and by value', () => {
    expect(secretLooking('db_password', 'x')).to.equal('`db_password` looks like a secret');
    expect(secretLooking('pool/API-KEY', 'x')).to.equal('`pool/API-KEY` looks like a secret');
    expect(secretLooking('key', '-----BEGIN RSA PRIVATE KEY-----\nabc')).to.match(/private key/);
    expect(secretLooking('aws', 'AKIAABCDEFGHIJKLMNOP')).to.match(/AWS access key/);
    expect(secretLooking('dsn', 'postgres://app:s3cret@db/app')).to.match(/URL with a password/);
    expect(secretLooking('max_connections', '100')).to.equal(undefined);
    expect(secretLooking('upstream', 'https://api.example.com/v1')).to.equal(undefined);
    expect(secretLooking('token_ttl', '30s')).to.equal(undefined);
  });
});

describe('spec: external services in an environment', () => {
  const set = loadSet([
    { file: 'services/pg.yaml', kind: 'service', text: 'kind: external\nname: pg\naddress: 10.0.0.5\nport: 5432\ntags: [a]\nconfig:\n  x: "1"\n' },
    { file: 'services/vault.yaml', kind: 'service', text: 'kind: external\nname: vault\naddress: 10.0.0.6\nport: 8200\n' },
    {
      file: 'services/web.yaml',
      kind: 'service',
      text: 'name: web\ngroups:\n  - name: web\n    tasks:\n      - name: web\n        driver: raw_exec\n        command: /bin/true\n',
    },
    {
      file: 'environments/qa.yaml',
      kind: 'environment',
      text: 'name: qa\nexternal:\n  pg:\n    address: db.qa\n    tags: [b]\n    config:\n      y: "2"\n  vault:\n    enabled: false\n',
    },
  ]);

  it('merges the overrides, leaves disabled ones out, and never makes them jobs', () => {
    expect(set.problems).to.deep.equal([]);
    const externals = resolveExternals(set, 'qa');
    expect(externals.map((x) => x.spec)).to.deep.equal([
      { kind: 'external', name: 'pg', address: 'db.qa', port: 5432, tags: ['a', 'b'], config: { x: '1', y: '2' } },
    ]);
    expect(externals[0]!.origin('address')).to.deep.equal({ at: { file: 'environments/qa.yaml', line: 4, col: 14 }, subject: 'external.pg.address' });
    expect(resolveEnvironment(set, 'qa').map((r) => r.spec.name)).to.deep.equal(['web']);
  });
});
