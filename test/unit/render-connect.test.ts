/**
 * Issue 12 §1: typed Consul Connect on group services, task and service workload
 * identities, and Nomad 1.11 `secret` blocks. The golden case
 * test/fixtures/golden/connect holds them all; test/integration/render.test.ts
 * sends its HCL through the real Nomad's `/v1/jobs/parse` and compares field by
 * field, and `/v1/validate/job` accepts it. Here: the API shapes that matter
 * (what Nomad's parser gives back for the equivalent HCL) and every refusal with
 * its place.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { formatProblem } from '../../src/errors.js';
import type { Job, Task, TaskGroup } from '../../src/nomad/job.js';
import { renderJob } from '../../src/nomad/render.js';
import { renderJobHcl } from '../../src/nomad/render-hcl.js';
import { loadSet, resolveEnvironment } from '../../src/service-spec/load.js';

function render(text: string, file = 'web.yaml'): { problems: string[]; job?: Job } {
  const set = loadSet([
    { file, text, kind: 'service' },
    { file: 'qa.yaml', text: 'name: qa\n', kind: 'environment' },
  ]);
  const problems = set.problems.map(formatProblem);
  return problems.length > 0 ? { problems } : { problems, job: renderJob(resolveEnvironment(set, 'qa')[0]!) };
}

function ok(text: string, file?: string): Job {
  const r = render(text, file);
  expect(r.problems).to.deep.equal([]);
  return r.job!;
}

const CONNECT = readFileSync('test/fixtures/golden/connect/connect.yaml', 'utf8');

describe('render: Consul Connect (issue 12)', () => {
  const g = (): TaskGroup => ok(CONNECT, 'connect.yaml').TaskGroups[0]!;

  it("renders the sidecar service, proxy, upstreams and expose paths in the API's shape", () => {
    expect(g().Networks).to.deep.equal([{ Mode: 'bridge', DynamicPorts: [{ Label: 'mesh' }, { Label: 'metrics' }] }]);
    expect(g().Services![0]!.Connect).to.deep.equal({
      SidecarService: {
        Port: 'mesh',
        Tags: ['mesh'],
        Meta: { team: 'payments' },
        Proxy: {
          LocalServicePort: 9090,
          Upstreams: [
            {
              DestinationName: 'ledger',
              LocalBindPort: 8081,
              LocalBindAddress: '127.0.0.2',
              Datacenter: 'dc2',
              MeshGateway: { Mode: 'local' },
              Config: { connect_timeout_ms: 3000 },
            },
            { DestinationName: 'postgres', LocalBindPort: 5432 },
          ],
          Expose: { Paths: [{ Path: '/metrics', Protocol: 'http', LocalPathPort: 9102, ListenerPort: 'metrics' }] },
          Config: { protocol: 'http', local_request_timeout_ms: 5000 },
        },
      },
      SidecarTask: {
        Config: { image: 'envoyproxy/envoy:v1.33.0', args: ['-l', 'info'] },
        Env: { ENVOY_LOG_LEVEL: 'info' },
        Resources: { CPU: 100, MemoryMB: 96 },
        KillTimeout: 10e9,
        LogConfig: { MaxFiles: 2, MaxFileSizeMB: 5 },
      },
    });
    expect(g().Services![0]!.Identity).to.deep.equal({ Audience: ['consul.io'], TTL: 3600e9 });
    expect(g().Services![1]!.Connect).to.deep.equal({ Native: true });
    expect(g().Services![1]!.TaskName).to.equal('api');
  });

  it('writes Connect as the HCL an operator would (`connect { sidecar_service { proxy { upstreams { … } } } }`)', () => {
    const hcl = renderJobHcl(ok(CONNECT, 'connect.yaml'));
    expect(hcl).to.include('      connect {\n        sidecar_service {\n          tags = ["mesh"]\n          port = "mesh"\n');
    expect(hcl).to.include('            upstreams {\n              destination_name   = "ledger"\n');
    expect(hcl).to.include('            expose {\n              path {\n                path            = "/metrics"\n');
    expect(hcl).to.include('      identity {\n        aud = ["consul.io"]\n        ttl = "1h"\n      }\n');
  });

  it("leaves the proxy's ports to Nomad's proxy task: the only docker task does not publish them (issue 12 §4)", () => {
    // Before: the implicit publishing gave the task every group port, so the
    // task and Envoy would both bind `mesh` and `metrics`.
    expect(g().Tasks[0]!.Config['ports']).to.equal(undefined);
    const job = ok(CONNECT.replace('      metrics: {}\n', '      metrics: {}\n      http: {to: 9090}\n'), 'connect.yaml');
    expect(job.TaskGroups[0]!.Tasks[0]!.Config['ports']).to.deep.equal(['http']);
  });

  it('refuses what Nomad and Consul refuse, and a port bound twice, each at its place', () => {
    const r = render(`name: web
groups:
  - name: web
    ports:
      mesh: {}
      http: {}
    services:
      - port: "9090"
        checks:
          - {type: http, path: /health, expose: true}
        connect:
          native: true
          sidecar_service:
            port: mesh_
            proxy:
              config: {"bad key": 1}
              upstreams:
                - {destination_name: a, local_bind_port: 8081}
                - {destination_name: b, local_bind_port: 8081}
      - name: other
        port: http
        checks:
          - {type: http, path: /health, expose: true}
          - {type: tcp}
        connect: {sidecar_task: {driver: docker}}
      - name: third
        port: http
        connect: {native: true}
    tasks:
      - name: web
        image: {repository: shop/web, tag: "1.0"}
        ports: [http, mesh]
        services:
          - {name: t, port: http, connect: {native: true}}
      - name: log
        driver: exec
        command: /bin/log
`);
    expect(r.problems).to.deep.equal([
      'web.yaml:12:11  groups[0].services[0].connect  a Connect-native service in a group of several tasks needs `task`: the task that speaks Connect',
      'web.yaml:12:19  groups[0].services[0].connect.native  a Connect-native service has no sidecar: remove `sidecar_service` and `sidecar_task`, or `native`',
      "web.yaml:14:13  groups[0].services[0].connect.sidecar_service  a Connect sidecar shares the allocation's network namespace: the group needs `network_mode: bridge`",
      'web.yaml:14:19  groups[0].services[0].connect.sidecar_service.port  port `mesh_` is not declared in groups[0].ports; did you mean `mesh`?',
      'web.yaml:16:35  groups[0].services[0].connect.sidecar_service.proxy.config["bad key"]  `bad key` is not an HCL identifier, so it cannot name an attribute of a block; put it in a map value (an object attribute) instead',
      'web.yaml:19:58  groups[0].services[0].connect.sidecar_service.proxy.upstreams[1].local_bind_port  127.0.0.1:8081 is already the listener of groups[0].services[0].connect.sidecar_service.proxy.upstreams[0]',
      'web.yaml:23:49  groups[0].services[1].checks[0].expose  `expose` serves the check through the Connect sidecar: the service needs `connect.sidecar_service`',
      'web.yaml:25:18  groups[0].services[1].connect  `sidecar_task` changes the proxy of a `sidecar_service`: add one',
      'web.yaml:28:18  groups[0].services[2].connect  a Connect-native service in a group of several tasks needs `task`: the task that speaks Connect',
      'web.yaml:34:44  groups[0].tasks[0].services[0].connect  Connect belongs to group services: Nomad runs one proxy per group network; move this service to the group',
    ]);
  });

  it("refuses a task that publishes the proxy's port, a tcp check beside a sidecar (Nomad does), and Connect or a service identity with provider nomad", () => {
    const r = render(`name: web
groups:
  - name: web
    network_mode: bridge
    ports:
      mesh: {}
    services:
      - port: "9090"
        provider: nomad
        identity: {aud: [consul.io]}
        checks:
          - {type: tcp}
        connect:
          sidecar_service: {port: mesh}
    tasks:
      - name: web
        image: {repository: shop/web, tag: "1.0"}
        ports: [mesh]
`);
    expect(r.problems).to.deep.equal([
      'web.yaml:10:19  groups[0].services[0].identity  a service identity is exchanged for a Consul token: it needs provider consul',
      'web.yaml:12:20  groups[0].services[0].checks[0].type  Nomad refuses tcp checks on a service with a Connect sidecar: use an http or grpc check with `expose: true` (the sidecar has its own TCP check)',
      'web.yaml:14:11  groups[0].services[0].connect  Connect is a Consul feature: it needs provider consul',
      "web.yaml:18:17  groups[0].tasks[0].ports[0]  port `mesh` is the Connect proxy's (groups[0].services[0].connect.sidecar_service.port); two processes cannot bind one port",
    ]);
  });
});

describe('render: workload identities and secret blocks (issue 12)', () => {
  const t = (): Task => ok(CONNECT, 'connect.yaml').TaskGroups[0]!.Tasks[0]!;

  it("puts the unnamed identity in Identity and named ones in Identities, as Nomad's parser does", () => {
    expect(t().Identity).to.deep.equal({ Env: true, File: true });
    expect(t().Identities).to.deep.equal([
      { Name: 'vault_default', Audience: ['vault.io'], ChangeMode: 'signal', ChangeSignal: 'SIGHUP', TTL: 3600e9 },
      { Name: 'oidc', Audience: ['oidc.example.com'], File: true, Filepath: 'secrets/oidc.jwt', TTL: 1800e9 },
    ]);
    // Named `default`, it is still the default identity (Nomad keeps the name).
    const named = ok(CONNECT.replace('- {env: true, file: true}', '- {name: default, env: true}'), 'connect.yaml');
    expect(named.TaskGroups[0]!.Tasks[0]!.Identity).to.deep.equal({ Name: 'default', Env: true });
  });

  it('renders secret blocks by name, and a vault block for a vault secret (Nomad refuses one without)', () => {
    expect(t().Secrets).to.deep.equal([
      { Name: 'db', Provider: 'vault', Path: 'secret/data/connect/db', Config: { engine: 'kv_v2' } },
      { Name: 'flags', Provider: 'nomad', Path: 'nomad/jobs/connect' },
      { Name: 'token', Provider: 'company-secrets', Path: 'teams/payments/token', Env: { SECRETS_REGION: 'eu' } },
    ]);
    expect(t().Vault).to.deep.equal({ Env: false, DisableFile: false, ChangeMode: 'restart' });
    expect(renderJobHcl(ok(CONNECT, 'connect.yaml'))).to.include(
      '      secret "db" {\n        provider = "vault"\n        path     = "secret/data/connect/db"\n\n        config {\n          engine = "kv_v2"\n        }\n      }\n',
    );
  });

  it('refuses two default identities, a repeated name, options that do not fit, and provider options of the other kind', () => {
    const r = render(`name: web
groups:
  - name: web
    tasks:
      - name: web
        image: {repository: shop/web, tag: "1.0"}
        identities:
          - {env: true}
          - {name: default, file: true}
          - {name: a, aud: [x], filepath: secrets/a.jwt, change_mode: signal}
          - {name: a, aud: [x], change_signal: SIGHUP}
          - {name: "b c", aud: []}
        secret_blocks:
          db: {provider: my-plugin, path: x, config: {engine: kv_v2}}
          v: {provider: vault, path: x, env: {A: b}}
          "bad-name": {provider: vault, path: x}
`);
    expect(r.problems).to.deep.equal([
      'web.yaml:9:20  groups[0].tasks[0].identities[1].name  identities[0] is already the default identity (no name, or `default`); give this one a `name`',
      'web.yaml:10:13  groups[0].tasks[0].identities[2]  change_mode signal needs a `change_signal`',
      'web.yaml:10:43  groups[0].tasks[0].identities[2].filepath  `filepath` says where the token file goes: it needs `file: true`',
      'web.yaml:11:20  groups[0].tasks[0].identities[3].name  identity name `a` is already used by identities[2]',
      'web.yaml:11:48  groups[0].tasks[0].identities[3].change_signal  change_signal needs change_mode `signal`',
      // The invalid name is left out, and not taken for a second default identity.
      'web.yaml:12:20  groups[0].tasks[0].identities[4].name  `b c` is not valid: use letters, digits, dashes and underscores, at most 128',
      'web.yaml:12:32  groups[0].tasks[0].identities[4].aud  needs at least 1 item',
      'web.yaml:14:54  groups[0].tasks[0].secret_blocks.db.config  `config` holds options of the built-in providers vault and nomad; a plugin (`my-plugin`) takes `env`',
      'web.yaml:15:46  groups[0].tasks[0].secret_blocks.v.env  `env` is given to custom provider plugins; the vault provider takes `config`',
      'web.yaml:16:11  groups[0].tasks[0].secret_blocks.bad-name  key `bad-name` is not valid: use letters, digits and underscores, starting with a letter or underscore (it is used in ${secret.<name>.<key>})',
    ]);
  });
});

describe('render: identities through the escape hatch (issue 12)', () => {
  const SPEC = (raw: string) => `name: web
groups:
  - name: web
    tasks:
      - name: web
        image: {repository: shop/web, tag: "1.0"}
        nomad:
${raw}`;

  it("accepts Task.Identity, which Nomad's parser fills from an unnamed identity block, and writes it so", () => {
    // Before: the generated schema gave api.Task.Identity no HCL form (its Go field has no
    // `hcl` tag), so the escape hatch refused the default identity outright.
    const job = ok(SPEC('          Identity: {Env: true, TTL: 1h}\n'));
    expect(job.TaskGroups[0]!.Tasks[0]!.Identity).to.deep.equal({ Env: true, TTL: 3600e9 });
    expect(renderJobHcl(job)).to.include('      identity {\n        env = true\n        ttl = "1h"\n      }\n');
  });

  it("moves a default identity written among Identities into Identity, where Nomad's parser reads it back", () => {
    // `hashiship import` writes a job's default identity this way; JSON and HCL must still agree.
    const job = ok(SPEC('          Identities:\n            - {Name: x, Audience: [a]}\n            - {Env: true}\n'));
    expect(job.TaskGroups[0]!.Tasks[0]!.Identity).to.deep.equal({ Env: true });
    expect(job.TaskGroups[0]!.Tasks[0]!.Identities).to.deep.equal([{ Name: 'x', Audience: ['a'] }]);
  });

  it('refuses a named Identity and a second default identity: Nomad would read them back elsewhere', () => {
    const r = render(SPEC('          Identity: {Name: other}\n          Identities:\n            - {Name: x, Audience: [a]}\n            - {Audience: [b]}\n'));
    expect(r.problems).to.deep.equal([
      'web.yaml:8:28  groups[0].tasks[0].nomad.Identity.Name  `Identity` is the task\'s default identity: Nomad\'s parser reads it back only unnamed or named `default`; put an identity named "other" in `Identities`',
      'web.yaml:11:15  groups[0].tasks[0].nomad.Identities[1]  a task has one default identity (without a name, or named `default`), and Identity is already it; give this one a `Name`',
    ]);
  });
});
