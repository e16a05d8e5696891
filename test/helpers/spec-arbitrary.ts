/**
 * fast-check arbitraries for the property tests: adversarial strings (quotes,
 * `${…}`, `%{…}`, heredoc markers, backslashes, newlines, emoji) and whole
 * service specs that carry them in every free-text field, written as YAML so the
 * whole path — YAML, validation, overlay, render — is exercised.
 */
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { parse, stringify } from 'yaml';
import type { SpecFile } from '../../src/service-spec/load.js';
import { SECRET_KEY } from '../../src/service-spec/external.js';

/**
 * A generated value as YAML text that reads back as the same value. The \`yaml\`
 * package can write a block scalar it cannot read itself (a value starting with a
 * whitespace-only line indented deeper than the next line needs an indentation
 * indicator it leaves out: seed 20261203, case 17579 of \`npm run fuzz\`); such
 * files were reported as specs hashiship rejects. Those values are written quoted.
 */
export function yamlText(value: unknown): string {
  const text = stringify(value);
  try {
    if (isDeepStrictEqual(parse(text), JSON.parse(JSON.stringify(value)))) return text;
  } catch {
    // unreadable: written again below
  }
  return stringify(value, { blockQuote: false });
}

const FRAGMENTS = [
  '"',
  "'",
  '\\',
  '\\n',
  '\\"',
  '$',
  '$$',
  '${',
  '$${',
  '%',
  '%{',
  '%%{',
  '{',
  '}',
  '{{',
  '}}',
  '{{ key "a/b" }}',
  '${attr.kernel.name}',
  '${NOMAD_PORT_http}',
  '${node.unique.name}',
  '${var.x}',
  '${local.y}',
  '${a.b}}',
  '${ x }',
  '%{ if true }',
  '%{ endif }',
  '<<EOT',
  '<<-EOT',
  'EOT',
  '  EOT',
  'EOT1',
  '\n',
  '\r\n',
  '\r',
  '\t',
  ' ',
  '#',
  '//',
  '/*',
  '😀',
  '👍🏽',
  '🏳️‍🌈',
  'ü',
  '日本語',
  '\u0000',
  '\u0007',
  '\u001b',
  '\u007f',
  '\u2028',
  '\ufeff',
  'a',
  'word',
] as const;

/** A string built from fragments that are hard to escape, and random text. */
export function adversarialString(maxParts = 8): fc.Arbitrary<string> {
  return fc
    .array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...FRAGMENTS) }, { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) }), {
      maxLength: maxParts,
    })
    .map((parts) => parts.join(''));
}

/** A multi-line text ending in a newline (a template body). */
function adversarialText(): fc.Arbitrary<string> {
  return fc.array(adversarialString(5), { minLength: 1, maxLength: 5 }).map((lines) => `${lines.join('\n')}\n`);
}

// Cheap name arbitraries (fc.stringMatching is slow enough to dominate the run).
const name = (first: string, rest: string, max: number): fc.Arbitrary<string> =>
  fc.tuple(fc.constantFrom(...first), fc.array(fc.constantFrom(...rest), { maxLength: max })).map(([a, b]) => a + b.join(''));
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
// Names of secrets are refused in plain values (src/service-spec/external.ts), so are JavaScript's own property names.
const plainName = (k: string): boolean => !SECRET_KEY.test(k) && !['__proto__', 'constructor', 'prototype'].includes(k);
const metaKey = name(`${LOWER}${UPPER}_`, `${LOWER}${UPPER}0123456789_-`, 12).filter(plainName);
const envName = name(`${UPPER}_`, `${UPPER}0123456789_`, 12).filter(plainName);
const secretName = name(`${LOWER}_`, `${LOWER}0123456789_`, 8);
const dict = <T>(key: fc.Arbitrary<string>, value: fc.Arbitrary<T>, maxKeys = 3) => fc.dictionary(key, value, { maxKeys, noNullPrototype: true });

interface GenTask {
  readonly name: string;
  readonly [k: string]: unknown;
}

function taskArb(index: number, ports: readonly string[]): fc.Arbitrary<GenTask> {
  const name = `t${index}`;
  const common = {
    env: fc.option(dict(envName, adversarialString()), { nil: undefined }),
    meta: fc.option(dict(metaKey, adversarialString()), { nil: undefined }),
    args: fc.option(fc.array(adversarialString(), { maxLength: 3 }), { nil: undefined }),
    templates: fc.option(fc.array(fc.record({ data: fc.oneof(adversarialText(), adversarialString()), env: fc.boolean() }), { maxLength: 2 }), {
      nil: undefined,
    }),
    secrets: fc.option(fc.constant([{ env: 'HASHISHIP_S', path: 'secret/data/app/db', key: 'pw' }]), { nil: undefined }),
    constraints: fc.option(fc.array(fc.record({ attribute: fc.constant('${meta.x}'), value: adversarialString() }), { maxLength: 2 }), {
      nil: undefined,
    }),
    // Issue 12: typed docker options, carrying adversarial text where the driver takes any.
    docker: fc.option(
      fc.record({
        labels: dict(metaKey, adversarialString()),
        logging: fc.record({ type: fc.constant('json-file'), config: dict(metaKey, adversarialString(), 2) }),
        entrypoint: fc.array(adversarialString(), { maxLength: 2 }),
        ulimit: fc.constant({ nofile: '4096:8192' }),
        sysctl: fc.constant({ 'net.core.somaxconn': '1024' }),
        mount: fc.constant([{ type: 'tmpfs', target: '/scratch', tmpfs_options: { size: 1048576 } }]),
        cap_drop: fc.constant(['ALL']),
        force_pull: fc.boolean(),
        // Issue 12: namespaces and an interpolated host name (typed since import lifted them).
        pid_mode: fc.constantFrom('host', 'container:sidecar'),
        ipc_mode: fc.constantFrom('host', 'shareable'),
        hostname: fc.constantFrom('${attr.unique.hostname}', 'app-${NOMAD_ALLOC_INDEX}', 'web.internal'),
        // Docker's host-gateway and an interpolated address (accepted since import4).
        extra_hosts: fc.constantFrom(['host.docker.internal:host-gateway'], ['db.internal:${attr.unique.network.ip-address}', 'cache:10.0.0.5']),
      }),
      { nil: undefined },
    ),
    classPath: fc.boolean(),
    dispatchPayload: fc.option(fc.constantFrom('job.json', 'in/payload.bin', '../alloc/data/job.json'), { nil: undefined }),
    csiPlugin: fc.option(
      fc.record({
        type: fc.constantFrom('node', 'controller', 'monolith'),
        custom: fc.boolean(),
      }),
      { nil: undefined },
    ),
    shutdownDelay: fc.option(fc.constantFrom('0s', '3s'), { nil: undefined }),
    // Typed since import4: the leader task, logs turned off, a jar fetched with headers (adversarial values).
    leader: fc.boolean(),
    logsDisabled: fc.boolean(),
    jarHeaders: fc.option(
      dict(
        fc.constantFrom('X-Channel', 'Authorization-Hint'),
        adversarialString().map((v) => v.replace(/[\r\n]/g, ' ')),
        2,
      ),
      {
        nil: undefined,
      },
    ),
    // Issue 12: workload identities (the default one and named ones) and Nomad 1.11 secret blocks.
    identities: fc.option(
      fc.record({
        withDefault: fc.boolean(),
        named: fc.array(fc.record({ ttl: fc.constantFrom('1h', '30m'), signal: fc.boolean() }), { maxLength: 2 }),
      }),
      { nil: undefined },
    ),
    secretBlocks: fc.option(dict(secretName, adversarialString(), 2), { nil: undefined }),
  };
  const driver = fc.constantFrom('docker', 'exec', 'raw_exec', 'java');
  return fc.record({ driver, command: adversarialString(), user: fc.option(adversarialString(), { nil: undefined }), ...common }).map((t) => {
    const out: Record<string, unknown> = { name, driver: t.driver };
    if (t.driver === 'docker') {
      out['image'] = { repository: 'example/app', tag: '1.0' };
      // A port is published by one task at most (the spec refuses two): the first task lists them.
      if (ports.length > 0) out['ports'] = index === 0 ? [...ports] : [];
      if (t.docker !== undefined) out['docker'] = t.docker;
    }
    if (t.shutdownDelay !== undefined) out['shutdown_delay'] = t.shutdownDelay;
    if (t.driver === 'exec' || t.driver === 'raw_exec') out['command'] = t.command;
    if (t.driver === 'java') {
      // A class run from the class path, or a jar (the spec refuses both together: java -jar ignores -cp).
      if (t.classPath) {
        out['class'] = 'com.example.Main';
        out['class_path'] = '${NOMAD_TASK_DIR}/lib/*';
      } else out['jar'] = { source: 'https://example.com/app.jar', ...(t.jarHeaders === undefined ? {} : { headers: t.jarHeaders }) };
    }
    if (t.leader && index === 0) out['leader'] = true;
    if (t.logsDisabled) out['logs'] = { disabled: true };
    if (t.dispatchPayload !== undefined) out['dispatch_payload'] = { file: t.dispatchPayload };
    if (t.csiPlugin !== undefined)
      out['csi_plugin'] = {
        id: `plugin.t${index}`,
        type: t.csiPlugin.type,
        ...(t.csiPlugin.custom ? { mount_dir: '/plugin', stage_publish_base_dir: '/local/stage', health_timeout: '1m' } : {}),
      };
    if (t.user !== undefined) out['user'] = t.user;
    if (t.env !== undefined) out['env'] = t.env;
    if (t.meta !== undefined) out['meta'] = t.meta;
    if (t.args !== undefined) out['args'] = t.args;
    if (t.templates !== undefined)
      out['templates'] = t.templates.map((x, i) => ({ destination: `local/f${i}`, data: x.data, env: x.env, ...(i === 1 ? { once: true, splay: '1m' } : {}) }));
    if (t.secrets !== undefined && !(t.env !== undefined && 'HASHISHIP_S' in t.env)) out['secrets'] = t.secrets;
    if (t.constraints !== undefined) out['constraints'] = t.constraints;
    if (t.identities !== undefined) {
      const ids: Record<string, unknown>[] = t.identities.withDefault ? [{ env: true, file: true }] : [];
      t.identities.named.forEach((n, i) =>
        ids.push({
          name: `id_${i}`,
          aud: [`aud${i}.example.com`],
          ttl: n.ttl,
          file: true,
          ...(n.signal ? { change_mode: 'signal', change_signal: 'SIGHUP' } : {}),
        }),
      );
      if (ids.length > 0) out['identities'] = ids;
    }
    if (t.secretBlocks !== undefined && Object.keys(t.secretBlocks).length > 0) {
      // A custom plugin takes env (adversarial values); vault takes config.
      out['secret_blocks'] = Object.fromEntries(
        Object.entries(t.secretBlocks).map(([k, v], i) => [
          k,
          i === 0
            ? { provider: 'vault', path: `secret/data/${k}`, config: { engine: 'kv_v2' } }
            : { provider: 'custom-plugin', path: `p/${k}`, env: { PLUGIN_VALUE: v } },
        ]),
      );
    }
    return out as GenTask;
  });
}

function groupArb(index: number, type: string): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .record({
      count: fc.integer({ min: 1, max: 3 }),
      portCount: fc.integer({ min: 0, max: 2 }),
      meta: fc.option(dict(metaKey, adversarialString()), { nil: undefined }),
      tags: fc.array(adversarialString(), { maxLength: 3 }),
      serviceMeta: fc.option(dict(metaKey, adversarialString()), { nil: undefined }),
      canaryMeta: fc.option(dict(metaKey, adversarialString()), { nil: undefined }),
      checkBody: fc.option(adversarialString(), { nil: undefined }),
      checkPath: adversarialString(),
      route: fc.boolean(),
      affinity: fc.option(adversarialString(), { nil: undefined }),
      spreadTarget: fc.option(name(LOWER, `${LOWER}0123456789`, 7), { nil: undefined }),
      // Issue 12: the resolver of the group network, and a staggered rollout.
      dns: fc.option(
        fc.record({
          servers: fc.constant(['10.0.0.2', '2001:db8::53']),
          searches: fc.array(name(LOWER, `${LOWER}0123456789`, 7), { minLength: 1, maxLength: 2 }),
          options: fc.constantFrom(['ndots:2'], ['ndots:1', 'timeout:2']),
        }),
        { nil: undefined },
      ),
      stagger: fc.option(fc.constantFrom('10s', '1m'), { nil: undefined }),
      // Issue 12: Consul Connect with adversarial text where Nomad takes any (tags, meta, free-form config, env).
      connect: fc.option(
        fc.record({
          tags: fc.array(adversarialString(), { maxLength: 2 }),
          meta: dict(metaKey, adversarialString(), 2),
          protocol: adversarialString(),
          upstreams: fc.integer({ min: 0, max: 2 }),
          upstreamConfig: fc.option(adversarialString(), { nil: undefined }),
          expose: fc.boolean(),
          sidecarTask: fc.option(fc.record({ env: dict(envName, adversarialString(), 2), arg: adversarialString() }), { nil: undefined }),
          identity: fc.boolean(),
        }),
        { nil: undefined },
      ),
    })
    .chain((g) => {
      const ports = Array.from({ length: g.portCount }, (_, i) => `p${i}`);
      return fc.array(fc.nat(), { minLength: 1, maxLength: 2 }).chain((ts) =>
        fc.tuple(...ts.map((_, i) => taskArb(i, ports))).map((tasks) => {
          const group: Record<string, unknown> = { name: `g${index}`, tasks };
          if (type !== 'system' && type !== 'sysbatch') group['count'] = g.count;
          if (ports.length > 0) {
            group['ports'] = Object.fromEntries(ports.map((p, i) => [p, i === 0 ? { to: 8080 } : {}]));
            const c = g.connect;
            group['services'] = [
              {
                name: `svc${index}-${Math.abs(g.count)}`,
                port: ports[0],
                tags: g.tags,
                ...(g.serviceMeta === undefined ? {} : { meta: g.serviceMeta }),
                ...(g.canaryMeta === undefined ? {} : { canary_meta: g.canaryMeta, enable_tag_override: true }),
                checks: [
                  {
                    type: 'http',
                    path: `/${g.checkPath}`,
                    ...(g.checkBody === undefined ? {} : { method: 'POST', body: g.checkBody, header: { 'X-Probe': ['a', 'b'] }, on_update: 'ignore' }),
                  },
                  // Nomad refuses tcp checks on a service with a Connect sidecar.
                  ...(g.connect === undefined ? [{ type: 'tcp' }] : [{ type: 'grpc', expose: true }]),
                ],
                ...(g.route ? { routes: [{ host: 'app', path: `/g${index}/` }] } : {}),
                ...(c === undefined
                  ? {}
                  : {
                      ...(c.identity ? { identity: { aud: ['consul.io'], ttl: '1h' } } : {}),
                      connect: {
                        sidecar_service: {
                          port: 'mesh',
                          tags: c.tags,
                          meta: c.meta,
                          proxy: {
                            local_service_port: 8080,
                            config: { protocol: c.protocol, local_request_timeout_ms: 5000, nested: { text: c.protocol } },
                            upstreams: Array.from({ length: c.upstreams }, (_, u) => ({
                              destination_name: `up${u}`,
                              local_bind_port: 9000 + u,
                              ...(u === 1 ? { datacenter: 'dc2', local_bind_address: '127.0.0.2', mesh_gateway: { mode: 'local' } } : {}),
                              ...(c.upstreamConfig === undefined ? {} : { config: { note: c.upstreamConfig } }),
                            })),
                            ...(c.expose
                              ? { expose: { paths: [{ path: '/metrics', protocol: 'http', local_path_port: 9102, listener_port: 'mesh_expose' }] } }
                              : {}),
                          },
                        },
                        ...(c.sidecarTask === undefined
                          ? {}
                          : {
                              sidecar_task: {
                                env: c.sidecarTask.env,
                                config: { args: ['-l', c.sidecarTask.arg], labels: { note: c.sidecarTask.arg } },
                                resources: { cpu: 50, memory: 64 },
                                kill_timeout: '5s',
                              },
                            }),
                      },
                    }),
              },
            ];
            if (c !== undefined) {
              // The proxy's ports: declared in the group, published by Nomad's proxy task (never listed by a task).
              group['network_mode'] = 'bridge';
              group['ports'] = { ...(group['ports'] as Record<string, unknown>), mesh: {}, ...(c.expose ? { mesh_expose: {} } : {}) };
            }
          }
          if (g.meta !== undefined) group['meta'] = g.meta;
          if (g.dns !== undefined) group['dns'] = g.dns;
          if (g.stagger !== undefined && (type === 'service' || type === 'system')) group['update'] = { stagger: g.stagger };
          if (g.affinity !== undefined && type !== 'system' && type !== 'sysbatch') group['affinities'] = [{ attribute: '${node.class}', value: g.affinity }];
          if (g.spreadTarget !== undefined) group['spread'] = [{ attribute: '${node.datacenter}', targets: { [g.spreadTarget]: 50 } }];
          return group;
        }),
      );
    });
}

/** A generated spec set: one service (and sometimes an environment) as YAML files. */
export interface GeneratedSpec {
  readonly name: string;
  readonly files: readonly SpecFile[];
  /** The environment to render, when the set has one. */
  readonly environment?: string;
}

/** Valid service specs whose free-text fields hold adversarial strings. */
export function specArbitrary(): fc.Arbitrary<GeneratedSpec> {
  return fc
    .record({
      id: fc.integer({ min: 0, max: 1_000_000 }),
      type: fc.constantFrom('service', 'service', 'batch', 'system', 'periodic', 'sysbatch'),
      crons: fc.boolean(),
      dispatch: fc.option(fc.array(metaKey, { maxLength: 2 }), { nil: undefined }),
      ui: fc.option(adversarialString(), { nil: undefined }),
      meta: dict(metaKey, adversarialString(), 4),
      groupCount: fc.integer({ min: 1, max: 2 }),
      withEnv: fc.boolean(),
      envMeta: dict(metaKey, adversarialString(), 2),
      nomadDefaults: fc.boolean(),
      // Issue 12: no datacenters (Nomad's default), a job-level update block, a periodic sysbatch job.
      noDatacenters: fc.boolean(),
      jobUpdate: fc.option(fc.record({ max_parallel: fc.integer({ min: 1, max: 3 }), auto_revert: fc.boolean(), stagger: fc.constantFrom('5s', '45s') }), {
        nil: undefined,
      }),
      // Typed since import4: the job-level migrate block (service jobs), empty or not.
      jobMigrate: fc.option(fc.constantFrom({}, { max_parallel: 2, health_check: 'task_states' }, { min_healthy_time: '15s', healthy_deadline: '4m' }), {
        nil: undefined,
      }),
    })
    .chain((s) =>
      fc.tuple(...Array.from({ length: s.groupCount }, (_, i) => groupArb(i, s.type))).map((groups) => {
        const name = `prop-${s.id}`;
        // Service names must be unique in the set: make them so.
        groups.forEach((g, gi) => {
          for (const svc of (g['services'] as Record<string, unknown>[] | undefined) ?? []) svc['name'] = `${name}-g${gi}`;
        });
        const spec: Record<string, unknown> = { name, type: s.type, meta: s.meta, groups };
        if (s.type === 'periodic') spec['periodic'] = s.crons ? { crons: ['*/5 * * * *', '0 3 * * *'], time_zone: 'Europe/Berlin' } : { cron: '*/5 * * * *' };
        if ((s.type === 'batch' || s.type === 'sysbatch') && s.dispatch !== undefined)
          spec['parameterized'] = { payload: 'optional', meta_required: [...new Set(s.dispatch)] };
        else if (s.type === 'sysbatch' && s.crons) spec['periodic'] = { cron: '0 4 * * *', time_zone: 'UTC' };
        if (s.noDatacenters) spec['datacenters'] = [];
        if (s.jobUpdate !== undefined && (s.type === 'service' || s.type === 'system')) spec['update'] = s.jobUpdate;
        if (s.jobMigrate !== undefined && s.type === 'service') spec['migrate'] = s.jobMigrate;
        if (s.ui !== undefined) spec['ui'] = { description: s.ui };
        const files: SpecFile[] = [{ file: `gen/services/${name}.yaml`, text: yamlText(spec), kind: 'service' }];
        if (!s.withEnv) return { name, files };
        const env = {
          name: 'prop',
          datacenters: ['dc1'],
          registry: '127.0.0.1:5001',
          domain: 'prop.example.com',
          meta: s.envMeta,
          // Issue 12 §3: an environment that switches hashiship's opinions to Nomad's defaults.
          ...(s.nomadDefaults
            ? { defaults: { shutdown_delay: '0s', memory: 300, prohibit_overlap: false, vault_env: true, canary_tags: 'nomad', publish_ports: 'listed' } }
            : {}),
        };
        return { name, files: [...files, { file: 'gen/environments/prop.yaml', text: yamlText(env), kind: 'environment' as const }], environment: 'prop' };
      }),
    );
}
