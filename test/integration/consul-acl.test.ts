/**
 * The Consul cases of consul-register.test.ts again, against a second, private
 * Consul that this test starts itself (the stack's pinned binary, `-dev`, other
 * loopback ports) with ACLs enabled and `default_policy = "deny"`. The cases run
 * with a token carrying only the minimal policy of docs/consul.md, given through
 * CONSUL_HTTP_TOKEN; a token without that policy is refused with exit 2 naming
 * the operation and the path, and no token ever appears in the output.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClients } from '../../src/clients.js';
import { resolveConfig, type ConsulConfig } from '../../src/config/index.js';
import { ExitCode, ServerError } from '../../src/errors.js';
import { ensureTool } from '../../src/stack/install.js';
import { consul as consulTool } from '../../src/stack/versions.js';
import { cli, defineConsulCases, type ConsulCaseContext } from '../helpers/consul-cases.js';
import { testStackOptions } from '../helpers/stack.js';

/** A port nothing listens on right now (the OS picks it). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** The minimal policy of docs/consul.md for services and keys named with `prefix`, on `node`. */
export function minimalPolicy(prefix: string, node: string): string {
  return [
    `service_prefix "${prefix}" { policy = "write" }`,
    `key_prefix "config/${prefix}" { policy = "write" }`,
    'node_prefix "" { policy = "read" }',
    // Only for `hashiship maintenance on|off --node`.
    `node "${node}" { policy = "write" }`,
  ].join('\n');
}

describe('consul cases with ACLs default-deny (private Consul, minimal policy)', function () {
  const run = randomBytes(3).toString('hex');
  const management = randomUUID();
  const node = `acl-${run}`;
  let dir: string;
  let proc: ChildProcess | undefined;
  let address: string;
  let token: string;
  let noPolicyToken: string;
  let ctx: ConsulCaseContext;
  const admin = (): ConsulConfig => resolveConfig({ env: { CONSUL_HTTP_ADDR: address, CONSUL_HTTP_TOKEN: management }, home: '/nonexistent' }).consul;

  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${address}/v1${path}`, {
      method,
      headers: { 'X-Consul-Token': management },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };

  before(async function () {
    this.timeout(600_000);
    const bin = await ensureTool(consulTool, { cacheDir: testStackOptions().cacheDir });
    dir = await mkdtemp(join(tmpdir(), 'hs-consul-acl-'));
    const [http, dns, serfLan, serfWan, server, grpc] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const hcl = [
      // The agent token lets the agent's anti-entropy sync its own changes (a removed
      // maintenance check) to the catalog, as every agent of an ACL cluster has one.
      `acl { enabled = true, default_policy = "deny", enable_token_persistence = false, tokens { initial_management = "${management}", agent = "${management}" } }`,
      `ports { http = ${http}, dns = ${dns}, serf_lan = ${serfLan}, serf_wan = ${serfWan}, server = ${server}, grpc = ${grpc}, grpc_tls = -1 }`,
    ].join('\n');
    const log = createWriteStream(join(dir, 'consul.log'));
    proc = spawn(bin, ['agent', '-dev', '-node', node, '-bind', '127.0.0.1', '-client', '127.0.0.1', '-hcl', hcl], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout?.pipe(log);
    proc.stderr?.pipe(log);
    address = `http://127.0.0.1:${http}`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`consul exited ${proc.exitCode}: ${await readFile(join(dir, 'consul.log'), 'utf8')}`);
      const leader = await fetch(`${address}/v1/status/leader`).then(
        (r) => (r.ok ? r.json() : ''),
        () => '',
      );
      // The management token works once the ACL system has bootstrapped.
      const ready =
        leader !== '' &&
        (await fetch(`${address}/v1/acl/token/self`, { headers: { 'X-Consul-Token': management } }).then(
          (r) => r.ok,
          () => false,
        ));
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`consul with ACLs not ready after 60 s: ${await readFile(join(dir, 'consul.log'), 'utf8')}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const policy = await api<{ ID: string }>('PUT', '/acl/policy', { Name: `hashiship-${run}`, Rules: minimalPolicy(`ext-`, node) });
    token = (await api<{ SecretID: string }>('PUT', '/acl/token', { Description: 'hashiship test', Policies: [{ ID: policy.ID }] })).SecretID;
    noPolicyToken = (await api<{ SecretID: string }>('PUT', '/acl/token', { Description: 'no policy' })).SecretID;
    ctx = { env: { CONSUL_HTTP_ADDR: address, CONSUL_HTTP_TOKEN: token }, run, nodeMaintenance: true };
  });

  after(async function () {
    this.timeout(30_000);
    if (proc !== undefined && proc.exitCode === null) {
      const exited = new Promise((r) => proc!.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('default-deny really denies: anonymous requests see nothing and may write nothing', async function () {
    const res = await fetch(`${address}/v1/kv/config/ext-${run}/x`, { method: 'PUT', body: 'x' });
    expect(res.status).to.equal(403);
  });

  describe('the same cases with a token carrying only the minimal policy (CONSUL_HTTP_TOKEN)', function () {
    defineConsulCases(() => ctx, admin);
  });

  describe('a token without the policy', function () {
    const denied = () => createClients(resolveConfig({ env: { CONSUL_HTTP_ADDR: address, CONSUL_HTTP_TOKEN: noPolicyToken }, home: '/nonexistent' })).consul;
    const external = () => ({
      spec: { kind: 'external' as const, name: `ext-denied-${run}`, address: '127.0.0.1', port: 1, checks: [{ type: 'ttl' as const, ttl: '1m' }] },
    });

    it('register: exit 2 naming the operation and the service, never the token', async function () {
      let err: unknown;
      await denied()
        .services.sync('acl', [external()])
        .catch((e: unknown) => (err = e));
      expect(err).to.be.instanceOf(ServerError);
      const text = (err as ServerError).describe();
      expect((err as ServerError).exitCode).to.equal(ExitCode.unreachable);
      expect(text).to.match(new RegExp(`^consul: agent\\.service\\.register ext-denied-${run}-acl: 403: Permission denied`));
      expect(text).to.include(`service:write`);
      process.stderr.write(`      [refusal] ${text.split('\n')[0]}\n`);
      expect(text).to.not.include(noPolicyToken).and.not.include(management);
    });

    it('kv sync: exit 2 naming the operation and the key path, never the token', async function () {
      let err: unknown;
      await denied()
        .serviceConfig.sync([{ service: `ext-denied-${run}`, config: { a: 'b' } }])
        .catch((e: unknown) => (err = e));
      expect(err).to.be.instanceOf(ServerError);
      const text = (err as ServerError).describe();
      // The read is filtered (nothing visible), the check-and-set write is refused.
      expect(text).to.match(new RegExp(`^consul: kv\\.set config/ext-denied-${run}/a: 403: Permission denied`));
      expect(text).to.include('key:write');
      expect(text).to.not.include(noPolicyToken).and.not.include(management);
    });

    it('health gate: the service is invisible to it (deny filters reads), so the gate refuses with exit 6 at its deadline', async function () {
      this.timeout(20_000);
      const err = await denied()
        .health.waitForHealthy({ service: 'consul', deadlineMs: 1_500, maxWaitMs: 500 })
        .catch((e: unknown) => e);
      expect((err as { exitCode?: number }).exitCode).to.equal(ExitCode.gate);
      expect((err as Error).message).to.include('0 of 0 selected instances passing');
    });

    it('CLI: register and maintenance exit 2 with the operation and path on stderr, never the token', async function () {
      this.timeout(60_000);
      const env = { CONSUL_HTTP_ADDR: address, CONSUL_HTTP_TOKEN: noPolicyToken };
      const m = await cli(env, 'maintenance', 'on', '--node');
      expect(m.code).to.equal(ExitCode.unreachable);
      expect(m.stderr).to.match(/^Error: consul: agent\.maintenance: 403: Permission denied/m);
      const r = await cli(env, 'kv', 'sync', '--env', 'qa');
      expect(r.code).to.equal(ExitCode.unreachable);
      expect(r.stderr).to.match(/^Error: consul: kv\.set config\/[a-z0-9-]+\/[a-z_]+: 403: Permission denied/m);
      for (const out of [m.stdout, m.stderr, r.stdout, r.stderr]) expect(out).to.not.include(noPolicyToken).and.not.include(management);
    });
  });
});
