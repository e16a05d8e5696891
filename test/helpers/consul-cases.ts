/**
 * The Consul cases of issue 5 as one reusable list: external service
 * register/sync/remove (library and CLI), the health gate on what was
 * registered, configuration in KV with check-and-set (including a real race),
 * and maintenance mode through the CLI. `consul-register.test.ts` runs them
 * against the shared stack's Consul; `consul-acl.test.ts` runs the same list
 * against a private Consul with ACLs default-deny and a token carrying only
 * the minimal policy (docs/consul.md).
 *
 * Every name carries a random suffix; `cleanup()` removes what the cases made.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createClients } from '../../src/clients.js';
import { resolveConfig, type ConsulConfig, type HashishipConfig } from '../../src/config/index.js';
import { configFlags, configKey } from '../../src/consul/config.js';
import type { Consul } from '../../src/consul/index.js';
import { OwnerMeta, serviceId } from '../../src/consul/services.js';
import { ExitCode, GateError, ServerError } from '../../src/errors.js';
import { readSpecFiles } from '../../src/service-spec/files.js';
import { loadSet, resolveEnvironment, resolveExternals } from '../../src/service-spec/load.js';

const exec = promisify(execFile);

/** What the cases need from the test file that runs them. */
export interface ConsulCaseContext {
  /** CONSUL_HTTP_ADDR (and CONSUL_HTTP_TOKEN with ACLs) for the library and the CLI. */
  readonly env: Readonly<Record<string, string>>;
  /** A suffix unique to the run, lower-case letters and digits. */
  readonly run: string;
  /** Whether node maintenance may be switched (never on the shared stack). */
  readonly nodeMaintenance: boolean;
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run the CLI as a user does, with only `env`'s Consul variables. */
export async function cli(env: Readonly<Record<string, string>>, ...args: string[]): Promise<CliResult> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CONSUL_')));
  try {
    const r = await exec(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env: { ...clean, ...env }, timeout: 120_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Poll `probe` (every 100 ms, at most 5 s) until it returns a value; the last try's absence fails. */
async function eventually<T>(probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition not reached within 5 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function raw(config: ConsulConfig, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${config.address}/v1${path}`, {
    method,
    headers: config.token === undefined ? {} : { 'X-Consul-Token': config.token },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

/**
 * Define the cases (mocha `it`s) in the current `describe`. `ctx()` is read when
 * the cases run, so a `before` hook may create it. `adminConfig()` gives a config
 * allowed to set up foreign registrations and keys (the management token with ACLs).
 */
export function defineConsulCases(ctx: () => ConsulCaseContext, adminConfig: () => ConsulConfig): void {
  let dir: string;
  let resolved: HashishipConfig;
  let config: ConsulConfig;
  /** The root Consul client of `config`, as the CLI builds it. */
  let consul: Consul;
  let server: http.Server;
  let httpPort: number;
  const env = () => `e${ctx().run}`;
  const db = () => `ext-db-${ctx().run}`;
  const cache = () => `ext-cache-${ctx().run}`;
  const foreign = () => `ext-foreign-${ctx().run}`;

  const writeSpecs = async (envExtra: string, withCache = true): Promise<void> => {
    await rm(join(dir, 'services'), { recursive: true, force: true });
    await mkdir(join(dir, 'services'), { recursive: true });
    await mkdir(join(dir, 'environments'), { recursive: true });
    await writeFile(
      join(dir, 'services', `${db()}.yaml`),
      [
        'kind: external',
        `name: ${db()}`,
        'address: 127.0.0.1',
        `port: ${httpPort}`,
        'tags: [primary]',
        'meta:',
        '  engine: test',
        'checks:',
        '  - type: http',
        '    path: /health',
        '    interval: 2s',
        '    timeout: 1s',
        'config:',
        '  max_connections: "100"',
        '  pool/size: "10"',
        '',
      ].join('\n'),
    );
    if (withCache) {
      await writeFile(
        join(dir, 'services', `${cache()}.yaml`),
        ['kind: external', `name: ${cache()}`, 'address: 127.0.0.1', 'port: 6379', 'checks:', '  - type: ttl', '    ttl: 1m', ''].join('\n'),
      );
    }
    await writeFile(join(dir, 'environments', `${env()}.yaml`), [`name: ${env()}`, envExtra, ''].join('\n'));
  };

  const load = async () => loadSet(await readSpecFiles([join(dir, 'services'), join(dir, 'environments')]));

  before(async function () {
    resolved = resolveConfig({ env: { ...ctx().env }, home: '/nonexistent' });
    config = resolved.consul;
    consul = createClients(resolved).consul;
    dir = await mkdtemp(join(tmpdir(), 'hs-consul-'));
    server = http.createServer((req, res) => {
      res.writeHead(req.url === '/health' ? 200 : 404);
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    httpPort = (server.address() as AddressInfo).port;
  });

  after(async function () {
    const admin = adminConfig();
    for (const id of [serviceId(db(), env()), serviceId(cache(), env()), foreign()]) {
      await raw(admin, 'PUT', `/agent/service/deregister/${encodeURIComponent(id)}`).catch(() => undefined);
    }
    await raw(admin, 'DELETE', `/kv/config/${db()}?recurse`).catch(() => undefined);
    await raw(admin, 'DELETE', `/kv/config/${cache()}?recurse`).catch(() => undefined);
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('register --dry-run shows the adds with their fields and writes nothing (CLI)', async function () {
    this.timeout(60_000);
    await writeSpecs('');
    const r = await cli(ctx().env, 'register', '--env', env(), '--dry-run', '--services', join(dir, 'services'), '--environments', join(dir, 'environments'));
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include(`+ add ${serviceId(db(), env())} (service ${db()})`);
    expect(r.stdout).to.include(`checks.${db()}-http: http GET http://127.0.0.1:${httpPort}/health every 2s timeout 1s`);
    expect(r.stdout).to.include(`would make 2 changes in ${env()} (2 add, 0 update, 0 remove), 0 unchanged`);
    const live = await consul.services.list();
    expect(live.map((s) => s.id)).to.not.include(serviceId(db(), env()));
  });

  it("register adds both, marked as hashiship's; a second run changes nothing", async function () {
    this.timeout(60_000);
    const externals = resolveExternals(await load(), env());
    const first = await consul.services.sync(env(), externals);
    expect(first.changes.map((c) => `${c.action} ${c.id}`)).to.deep.equal([`add ${serviceId(cache(), env())}`, `add ${serviceId(db(), env())}`]);
    const live = (await consul.services.list()).find((s) => s.id === serviceId(db(), env()));
    expect(live?.meta).to.deep.include({ [OwnerMeta.tool]: 'hashiship', [OwnerMeta.environment]: env(), engine: 'test' });
    expect(live?.checks.map((c) => c.type)).to.deep.equal(['http']);
    const second = await consul.services.sync(env(), externals);
    expect(second.changes).to.have.length(0);
    expect(second.unchanged).to.deep.equal([serviceId(cache(), env()), serviceId(db(), env())]);
    // The second run through the CLI reports 0 changes too.
    const r = await cli(ctx().env, 'register', '--env', env(), '--json', '--services', join(dir, 'services'), '--environments', join(dir, 'environments'));
    expect(r.code, r.stderr).to.equal(0);
    expect((JSON.parse(r.stdout) as { changes: unknown[] }).changes).to.have.length(0);
  });

  it('the agent runs the registered http check: the health gate opens on it', async function () {
    this.timeout(30_000);
    const gate = await consul.health.waitForHealthy({ service: db(), min: 1, deadlineMs: 20_000, maxWaitMs: 5_000 });
    expect(gate.passing).to.equal(1);
    expect(gate.instances[0]?.checks.find((c) => c.name === `${db()}-http`)?.output).to.match(/200/);
  });

  it('an environment override is an update naming the fields that differ; a dropped spec is removed', async function () {
    this.timeout(60_000);
    await writeSpecs(['external:', `  ${db()}:`, '    port: 1', '    tags: [eu]', '    meta:', '      engine: test2'].join('\n'), false);
    const externals = resolveExternals(await load(), env());
    const dry = await consul.services.sync(env(), externals, { dryRun: true });
    const update = dry.changes.find((c) => c.action === 'update');
    expect(update?.fields.map((f) => f.field)).to.deep.equal(['port', 'tags', 'meta.engine', `checks.${db()}-http`]);
    expect(update?.fields.find((f) => f.field === `checks.${db()}-http`)?.to).to.equal(`http GET http://127.0.0.1:1/health every 2s timeout 1s`);
    expect(update?.fields.find((f) => f.field === 'port')).to.deep.equal({ field: 'port', from: httpPort, to: 1 });
    expect(dry.changes.find((c) => c.action === 'remove')?.id).to.equal(serviceId(cache(), env()));
    const applied = await consul.services.sync(env(), externals);
    expect(applied.changes.map((c) => c.action).sort()).to.deep.equal(['remove', 'update']);
    const live = await consul.services.list();
    expect(live.find((s) => s.id === serviceId(db(), env()))?.port).to.equal(1);
    expect(live.map((s) => s.id)).to.not.include(serviceId(cache(), env()));
    expect((await consul.services.sync(env(), externals)).changes).to.have.length(0);
  });

  it('never touches a service it did not register; an ID taken by one is exit 6 and nothing changes', async function () {
    this.timeout(60_000);
    const admin = adminConfig();
    // Foreign, unrelated service: survives every sync.
    expect((await raw(admin, 'PUT', '/agent/service/register', { ID: foreign(), Name: foreign(), Port: 9 })).ok).to.equal(true);
    // Foreign registration sitting on the ID hashiship would use for the cache.
    expect((await raw(admin, 'PUT', '/agent/service/register', { ID: serviceId(cache(), env()), Name: cache(), Port: 9 })).ok).to.equal(true);
    await writeSpecs('');
    const externals = resolveExternals(await load(), env());
    let err: unknown;
    await consul.services.sync(env(), externals).catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(GateError);
    expect((err as GateError).exitCode).to.equal(ExitCode.gate);
    expect((err as GateError).describe()).to.include(`${serviceId(cache(), env())} (not registered by hashiship)`);
    const live = await consul.services.list();
    expect(live.find((s) => s.id === serviceId(cache(), env()))?.port).to.equal(9);
    expect(live.find((s) => s.id === serviceId(db(), env()))?.port).to.equal(1);
    await raw(admin, 'PUT', `/agent/service/deregister/${encodeURIComponent(serviceId(cache(), env()))}`);
    const synced = await consul.services.sync(env(), externals);
    expect(synced.changes.map((c) => `${c.action} ${c.id}`)).to.deep.equal([`add ${serviceId(cache(), env())}`, `update ${serviceId(db(), env())}`]);
    expect((await createClients({ ...resolved, consul: adminConfig() }).consul.services.list()).map((s) => s.id)).to.include(foreign());
  });

  it('kv sync writes config/<service>/… with check-and-set; a second run changes nothing; unlisted own keys go, foreign ones stay', async function () {
    this.timeout(60_000);
    const set = await load();
    const wanted = [...resolveEnvironment(set, env()), ...resolveExternals(set, env())].map((r) => ({ service: r.spec.name, config: r.spec.config ?? {} }));
    const foreignKey = `${configKey(db(), 'set-by-hand')}`;
    expect((await raw(adminConfig(), 'PUT', `/kv/${foreignKey}`, 'x')).ok).to.equal(true);
    const environment = env();
    const first = await consul.serviceConfig.sync(wanted, { environment });
    expect(first.changes.map((c) => `${c.action} ${c.key}`)).to.deep.equal([
      `add ${configKey(db(), 'max_connections')}`,
      `add ${configKey(db(), 'pool/size')}`,
    ]);
    const entry = await consul.kv.get(configKey(db(), 'pool/size'));
    expect(entry).to.deep.include({ value: '10', flags: configFlags(environment) });
    expect((await consul.serviceConfig.sync(wanted, { environment })).changes).to.have.length(0);
    // The CLI agrees (dry run, JSON).
    const r = await cli(
      ctx().env,
      'kv',
      'sync',
      '--env',
      env(),
      '--dry-run',
      '--json',
      '--services',
      join(dir, 'services'),
      '--environments',
      join(dir, 'environments'),
    );
    expect(r.code, r.stderr).to.equal(0);
    expect((JSON.parse(r.stdout) as { changes: unknown[] }).changes).to.have.length(0);
    const fewer = wanted.map((w) => (w.service === db() ? { service: db(), config: { max_connections: '200' } } : w));
    const second = await consul.serviceConfig.sync(fewer, { environment });
    expect(second.changes.map((c) => `${c.action} ${c.key}`)).to.deep.equal([
      `update ${configKey(db(), 'max_connections')}`,
      `remove ${configKey(db(), 'pool/size')}`,
    ]);
    expect(await consul.kv.get(configKey(db(), 'pool/size'))).to.equal(undefined);
    expect((await consul.kv.get(foreignKey))?.value).to.equal('x');
    // The service's spec is deleted entirely: its keys of this environment go; the
    // hand-written one, and a key another environment wrote, stay.
    const otherEnv = configKey(db(), 'other-env');
    await consul.kv.putCas(otherEnv, 'kept', 0, { flags: configFlags(`${environment}-other`) });
    const without = fewer.filter((w) => w.service !== db());
    const dry = await consul.serviceConfig.sync(without, { environment, dryRun: true });
    expect(dry.changes.map((c) => `${c.action} ${c.key}`)).to.deep.equal([`remove ${configKey(db(), 'max_connections')}`]);
    expect((await consul.kv.get(configKey(db(), 'max_connections')))?.value).to.equal('200');
    const third = await consul.serviceConfig.sync(without, { environment });
    expect(third.changes.map((c) => `${c.action} ${c.key}`)).to.deep.equal([`remove ${configKey(db(), 'max_connections')}`]);
    expect(await consul.kv.get(configKey(db(), 'max_connections'))).to.equal(undefined);
    expect((await consul.kv.get(foreignKey))?.value).to.equal('x');
    expect((await consul.kv.get(otherEnv))?.value).to.equal('kept');
    expect((await consul.serviceConfig.sync(without, { environment })).changes).to.have.length(0);
  });

  it('kv sync: a change between the read and the check-and-set write is exit 6, never an overwrite', async function () {
    this.timeout(60_000);
    const key = configKey(db(), 'max_connections');
    let err: unknown;
    await consul.serviceConfig
      .sync([{ service: db(), config: { max_connections: '300' } }], {
        // Another writer changes the key after hashiship read it.
        beforeWrite: async (c) => {
          if (c.key === key) expect((await raw(adminConfig(), 'PUT', `/kv/${key}`, 'changed-by-someone-else')).ok).to.equal(true);
        },
      })
      .catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(GateError);
    expect((err as GateError).exitCode).to.equal(ExitCode.gate);
    expect((err as GateError).message).to.equal(`consul: kv: ${key} changed since it was read; write refused (check-and-set)`);
    expect((await consul.kv.get(key))?.value).to.equal('changed-by-someone-else');
  });

  it('maintenance on|off --service through the CLI puts the instance out of rotation and back', async function () {
    this.timeout(60_000);
    const id = serviceId(db(), env());
    const on = await cli(ctx().env, 'maintenance', 'on', '--service', id, '--reason', `window ${ctx().run}`);
    expect(on.code, on.stderr).to.equal(0);
    expect(on.stdout).to.include(`maint    service ${id}: on`);
    const checks = (await consul.services.list()).find((s) => s.id === id);
    expect(checks).to.not.equal(undefined);
    // The agent syncs its change to the catalog right away; allow that sync a moment.
    const health = await eventually(async () => {
      const checks = (await (await raw(config, 'GET', `/health/checks/${db()}`)).json()) as { CheckID: string; Status: string; Notes: string }[];
      return checks.some((c) => c.CheckID === `_service_maintenance:${id}`) ? checks : undefined;
    });
    expect(health.find((c) => c.CheckID === `_service_maintenance:${id}`)).to.deep.include({ Status: 'critical', Notes: `window ${ctx().run}` });
    const off = await cli(ctx().env, 'maintenance', 'off', '--service', id);
    expect(off.code, off.stderr).to.equal(0);
    const after = await eventually(async () => {
      const checks = (await (await raw(config, 'GET', `/health/checks/${db()}`)).json()) as { CheckID: string }[];
      return checks.some((c) => c.CheckID === `_service_maintenance:${id}`) ? undefined : checks;
    });
    expect(after.map((c) => c.CheckID)).to.include(`${id}:${db()}-http`);
    const bad = await cli(ctx().env, 'maintenance', 'on', '--service', `missing-${ctx().run}`);
    expect(bad.code).to.equal(ExitCode.unreachable);
    expect(bad.stderr).to.include(`consul: agent.service.maintenance missing-${ctx().run}: 404`);
    const both = await cli(ctx().env, 'maintenance', 'sideways', '--node', '--service', id);
    expect(both.code).to.equal(ExitCode.badInput);
  });

  it('maintenance on|off --node through the CLI', async function () {
    this.timeout(60_000);
    if (!ctx().nodeMaintenance) {
      console.log(
        '      skipped: node maintenance would take every service of the shared stack out of rotation; run against the private Consul of consul-acl.test.ts',
      );
      return;
    }
    const on = await cli(ctx().env, 'maintenance', 'on', '--node', '--reason', 'node window');
    expect(on.code, on.stderr).to.equal(0);
    const checks = (await (await raw(config, 'GET', '/agent/checks')).json()) as Record<string, { Status: string; Notes: string }>;
    expect(checks['_node_maintenance']).to.deep.include({ Status: 'critical', Notes: 'node window' });
    const off = await cli(ctx().env, 'maintenance', 'off', '--node');
    expect(off.code, off.stderr).to.equal(0);
    const later = (await (await raw(config, 'GET', '/agent/checks')).json()) as Record<string, unknown>;
    expect(later['_node_maintenance']).to.equal(undefined);
  });

  it('removing every spec deregisters what hashiship registered in the environment', async function () {
    this.timeout(60_000);
    const r = await consul.services.sync(env(), []);
    expect(r.changes.map((c) => `${c.action} ${c.id}`)).to.deep.equal([`remove ${serviceId(cache(), env())}`, `remove ${serviceId(db(), env())}`]);
    const ids = (await createClients({ ...resolved, consul: adminConfig() }).consul.services.list()).map((s) => s.id);
    expect(ids).to.not.include(serviceId(db(), env()));
    expect(ids).to.include(foreign());
  });
}

/** A ServerError's text, for asserting that a refusal names the operation and never the token. */
export function errorText(err: unknown): string {
  return err instanceof ServerError ? err.describe() : String(err);
}
