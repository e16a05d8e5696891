/**
 * Job shapes real teams run that `hashiship import` could not carry (issue 12 §5):
 * tasks of drivers the spec does not type (podman, qemu, exec2), Connect gateway
 * groups (no task: Nomad adds the gateway's), Connect-native services without
 * `task` in a one-task group, a file-mode artifact into `local/`, meta keys
 * that are not HCL identifiers (`runbook.url`), and a task's `scaling "cpu"`. Each is in the import corpus
 * (test/fixtures/import-corpus), round-tripped through the real Nomad by
 * test/integration/import.test.ts; here: the pieces that failed, without a server.
 */
import { expect } from 'chai';
import { formatProblem } from '../../src/errors.js';
import { parseHcl } from '../../src/hcl/parser.js';
import type { Job } from '../../src/nomad/job.js';
import { renderJob } from '../../src/nomad/render.js';
import { renderJobHcl } from '../../src/nomad/render-hcl.js';
import { sortedKeys } from '../../src/service-spec/import/diff.js';
import { repair } from '../../src/service-spec/import/import.js';
import { liftJob } from '../../src/service-spec/import/lift.js';
import { loadSet } from '../../src/service-spec/load.js';
import { standalone } from '../../src/service-spec/overlay.js';

type O = Record<string, unknown>;

function load(text: string): { problems: string[]; job?: Job } {
  const set = loadSet([{ file: 'shapes.yaml', text, kind: 'service' }]);
  const problems = set.problems.map(formatProblem);
  return problems.length > 0 || set.services[0] === undefined ? { problems } : { problems, job: renderJob(standalone(set.services[0])) };
}

const PODMAN = `name: shapes
groups:
  - name: api
    tasks:
      - name: api
        driver: podman
        nomad:
          Config:
            image: docker.io/example/inventory:1.8.0
            ports: [http]
`;

const GATEWAY = `name: shapes
groups:
  - name: ingress
    network_mode: bridge
    tasks: []
    nomad:
      Services:
        - Name: shapes-ingress
          PortLabel: "8080"
          Connect:
            Gateway:
              Ingress:
                Listeners:
                  - Port: 8080
                    Protocol: tcp
                    Services:
                      - Name: api
`;

describe('import shapes: a task of a driver the spec does not type', () => {
  it('renders the driver with its configuration from nomad: (the spec types docker, exec, raw_exec and java)', () => {
    const r = load(PODMAN);
    expect(r.problems).to.deep.equal([]);
    const t = r.job!.TaskGroups[0]!.Tasks[0]!;
    expect(t.Driver).to.equal('podman');
    expect(t.Config).to.deep.equal({ image: 'docker.io/example/inventory:1.8.0', ports: ['http'] });
  });

  it('refuses one without configuration at its driver, names a typo of a typed driver, and refuses typed command/args', () => {
    const bare = load(PODMAN.replace(/ {8}nomad:[\s\S]*$/, ''));
    expect(bare.problems.join('\n')).to.include(
      'groups[0].tasks[0].driver  the podman driver is not typed (docker, exec, raw_exec, java are): give its configuration in `nomad: {Config: …}`',
    );
    const typo = load(PODMAN.replace(/ {8}nomad:[\s\S]*$/, '').replace('podman', 'dokcer'));
    expect(typo.problems.join('\n')).to.include('`dokcer` is not one of docker, exec, raw_exec, java; did you mean `docker`?');
    const cmd = load(PODMAN.replace('        nomad:', '        command: /bin/app\n        nomad:'));
    expect(cmd.problems.join('\n')).to.include('groups[0].tasks[0].command  `command` is not typed for the podman driver; give it in `nomad: {Config: …}`');
    expect(load(PODMAN.replace('podman', 'Pod man')).problems.join('\n')).to.include('groups[0].tasks[0].driver');
  });

  it("is imported with the driver typed and its whole configuration in the task's nomad:", () => {
    const config = { image: 'appliance.qcow2', accelerator: 'kvm', port_map: [{ ssh: 22 }] };
    const { spec } = liftJob({
      ID: 'vm',
      Type: 'batch',
      TaskGroups: [{ Name: 'vm', Count: 1, Tasks: [{ Name: 'vm', Driver: 'qemu', Config: config, Resources: { CPU: 100, MemoryMB: 300 } }] }],
    });
    const t = ((spec['groups'] as O[])[0]!['tasks'] as O[])[0]!;
    expect(t['driver']).to.equal('qemu');
    expect(t['nomad']).to.deep.equal({ Config: config });
    expect(t).to.not.have.any.keys('command', 'image', 'args');
  });
});

describe('import shapes: a Connect gateway group', () => {
  it('has no task (Nomad adds the gateway task) and renders its raw services', () => {
    const r = load(GATEWAY);
    expect(r.problems).to.deep.equal([]);
    const g = r.job!.TaskGroups[0]!;
    expect(g.Tasks ?? []).to.deep.equal([]);
    expect((g.Services as unknown as O[])[0]!['Connect']).to.have.nested.property('Gateway.Ingress.Listeners[0].Port', 8080);
    // Nomad's parser reads the rendering: the group block without a task block.
    expect(renderJobHcl(r.job!)).to.match(/group "ingress" \{[\s\S]*gateway \{[\s\S]*listener \{/);
  });

  it('refuses a group without tasks that is not a gateway, at its tasks', () => {
    const r = load(GATEWAY.replace('Gateway:', 'SidecarService:'));
    expect(r.problems.join('\n')).to.include('groups[0].tasks  a group needs a task (Nomad refuses a group without one: "Missing tasks for task group")');
  });

  it("is imported with the group's services raw and no typed services", () => {
    const { spec } = liftJob({
      ID: 'gw',
      Type: 'service',
      TaskGroups: [
        {
          Name: 'gw',
          Count: 1,
          Services: [
            { Name: 'mesh-gateway', PortLabel: 'mesh', Provider: 'consul', Tags: null, Connect: { Gateway: { Mesh: {}, Proxy: { ConnectTimeout: 5e9 } } } },
          ],
          Tasks: null,
        },
      ],
    });
    const g = (spec['groups'] as O[])[0]!;
    expect(g).to.not.have.property('services');
    expect(g['tasks']).to.deep.equal([]);
    // Compact: what Nomad fills in the same way (provider consul, no tags) is left out.
    expect(g['nomad']).to.deep.equal({
      Services: [{ Name: 'mesh-gateway', PortLabel: 'mesh', Connect: { Gateway: { Mesh: {}, Proxy: { ConnectTimeout: 5e9 } } } }],
    });
  });
});

describe('import shapes: small exactness fixes', () => {
  it('keeps a Connect-native service without `task` in a one-task group (Nomad picks the task), refuses it with several', () => {
    const native = `name: shapes
groups:
  - name: api
    ports:
      api: {}
    services:
      - port: api
        connect:
          native: true
    tasks:
      - name: api
        image: {repository: example/api, tag: "1.0"}
`;
    expect(load(native).problems).to.deep.equal([]);
    expect(load(native).job!.TaskGroups[0]!.Services![0]!).to.not.have.property('TaskName');
    const two = native + '      - name: log\n        image: {repository: example/log, tag: "1.0"}\n        ports: []\n';
    expect(load(two).problems.join('\n')).to.include('a Connect-native service in a group of several tasks needs `task`');
  });

  it("keeps an artifact's `local/` destination in file mode (Nomad would fill in local/<file name>)", () => {
    const artifact = (mode: string) =>
      (
        (
          liftJob({
            ID: 'a',
            Type: 'batch',
            TaskGroups: [
              {
                Name: 'a',
                Count: 1,
                Tasks: [
                  {
                    Name: 'a',
                    Driver: 'exec',
                    Config: { command: 'x' },
                    Artifacts: [{ GetterSource: 'https://example.com/disk.qcow2', RelativeDest: 'local/', GetterMode: mode }],
                  },
                ],
              },
            ],
          }).spec['groups'] as O[]
        )[0]!['tasks'] as O[]
      )[0]!['artifacts'] as O[];
    expect(artifact('file')).to.deep.equal([{ source: 'https://example.com/disk.qcow2', destination: 'local/', mode: 'file' }]);
    expect(artifact('any')).to.deep.equal([{ source: 'https://example.com/disk.qcow2' }]);
  });

  it('writes job, group and task meta and env whose keys are not identifiers as `name = { … }` (a block cannot quote a name)', () => {
    const job = {
      ID: 'm',
      Name: 'm',
      Type: 'batch',
      Meta: { 'runbook.url': 'https://wiki/x', owner: 'search' },
      TaskGroups: [
        {
          Name: 'g',
          Meta: { plain: 'yes' },
          Tasks: [{ Name: 't', Driver: 'exec', Config: { command: 'x' }, Env: { 'my.var': '1' }, Meta: { 'a.b': '2' } }],
        },
      ],
    } as unknown as Job;
    const hcl = renderJobHcl(job);
    expect(hcl).to.include('  meta = {\n    owner         = "search"\n    "runbook.url" = "https://wiki/x"\n  }\n');
    expect(hcl).to.include('    meta {\n      plain = "yes"\n    }\n');
    expect(hcl).to.include('      env = {\n        "my.var" = "1"\n      }\n');
    expect(hcl).to.include('      meta = {\n        "a.b" = "2"\n      }\n');
    expect(() => parseHcl(hcl)).to.not.throw();
  });

  it('writes a task\'s scaling policies as `scaling "cpu"` / `scaling "mem"` (the label Nomad derives Type from), refuses another Type', () => {
    const spec = `name: shapes
groups:
  - name: api
    tasks:
      - name: api
        image: {repository: example/api, tag: "1.0"}
        nomad:
          ScalingPolicies:
            - {Type: vertical_cpu, Enabled: true, Max: 4000}
            - {Type: vertical_mem, Max: 8192}
`;
    const r = load(spec);
    expect(r.problems).to.deep.equal([]);
    const hcl = renderJobHcl(r.job!);
    expect(hcl).to.include('      scaling "cpu" {\n        max     = 4000\n        enabled = true\n        type    = "vertical_cpu"\n      }\n');
    expect(hcl).to.include('scaling "mem" {');
    expect(load(spec.replace('Type: vertical_mem, ', 'Type: horizontal, ')).problems.join('\n')).to.include(
      'groups[0].tasks[0].nomad.ScalingPolicies[1].Type  a task\'s scaling policy is `scaling "cpu"` or `scaling "mem"`',
    );
  });

  it('writes free-form maps with sorted keys, so one job always imports to the same spec (Nomad gives them in no fixed order)', () => {
    expect(JSON.stringify(sortedKeys({ b: 1, a: { d: [{ g: 1, f: 2 }], c: 'x' } }))).to.equal('{"a":{"c":"x","d":[{"f":2,"g":1}]},"b":1}');
    const { spec } = liftJob({
      ID: 'p',
      Type: 'service',
      TaskGroups: [
        {
          Name: 'p',
          Count: 1,
          Networks: [{ Mode: 'bridge' }],
          Services: [{ Name: 'p', PortLabel: '80', Connect: { SidecarService: { Proxy: { Config: { z: 1, protocol: 'http', b: { y: 1, x: 2 } } } } } }],
          Tasks: [{ Name: 'p', Driver: 'podman', Config: { volumes: ['a:b'], image: 'x:1', args: ['2', '1'] } }],
        },
      ],
    });
    const g = (spec['groups'] as O[])[0]!;
    const proxy = (((g['services'] as O[])[0]!['connect'] as O)['sidecar_service'] as O)['proxy'] as O;
    expect(JSON.stringify(proxy['config'])).to.equal('{"b":{"x":2,"y":1},"protocol":"http","z":1}');
    expect(Object.keys(((g['tasks'] as O[])[0]!['nomad'] as O)['Config'] as O)).to.deep.equal(['args', 'image', 'volumes']);
  });

  it('takes group and task names and port labels as Nomad jobs write them (Web.Frontend, Server, HTTP, http-admin)', () => {
    const spec = `name: shapes
groups:
  - name: Web.Frontend
    ports:
      HTTP: {to: 8080}
      http-admin: {to: 9090}
    services:
      - {name: shapes-admin, port: http-admin}
    tasks:
      - name: Server
        image: {repository: example/api, tag: "1.0"}
        ports: [HTTP, http-admin]
`;
    const r = load(spec);
    expect(r.problems).to.deep.equal([]);
    const g = r.job!.TaskGroups[0]!;
    expect([g.Name, g.Tasks[0]!.Name, g.Services![0]!.PortLabel]).to.deep.equal(['Web.Frontend', 'Server', 'http-admin']);
    expect(g.Tasks[0]!.Config['ports']).to.deep.equal(['HTTP', 'http-admin']);
    // Still refused: what no HCL label or NOMAD_PORT_ name can hold.
    const bad = load(spec.replace('http-admin: {to: 9090}', '"http admin": {to: 9090}').replace('name: Server', 'name: Ser/ver'));
    expect(bad.problems.join('\n')).to.include('groups[0].ports["http admin"]');
    expect(bad.problems.join('\n')).to.include('groups[0].tasks[0].name  `Ser/ver` is not valid');
  });

  it('leaves an env or meta key the spec refuses (spring.profiles.active, runbook.url) to nomad: alone, the rest typed', () => {
    const spec = `name: shapes
meta:
  owner: search
  runbook.url: https://wiki/x
groups:
  - name: api
    tasks:
      - name: api
        image: {repository: example/api, tag: "1.0"}
        env:
          JAVA_TOOL_OPTIONS: -Xmx256m
          spring.profiles.active: prod
`;
    const set = loadSet([{ file: 'shapes.yaml', text: spec, kind: 'service' }]);
    expect(set.problems.map((p) => p.subject).sort()).to.deep.equal(['groups[0].tasks[0].env["spring.profiles.active"]', 'meta["runbook.url"]']);
    const obj: O = {
      name: 'shapes',
      meta: { owner: 'search', 'runbook.url': 'https://wiki/x' },
      groups: [{ name: 'api', tasks: [{ name: 'api', env: { JAVA_TOOL_OPTIONS: '-Xmx256m', 'spring.profiles.active': 'prod' } }] }],
    };
    expect(repair(obj, set.problems)).to.equal(true);
    expect(obj['meta']).to.deep.equal({ owner: 'search' });
    expect(((obj['groups'] as O[])[0]!['tasks'] as O[])[0]!['env']).to.deep.equal({ JAVA_TOOL_OPTIONS: '-Xmx256m' });
  });

  it('leaves a whole list to nomad: once, however many of its items the spec refuses (API-Gateway, api_internal)', () => {
    const spec = `name: shapes
groups:
  - name: api
    ports:
      http: {}
    services:
      - {name: API-Gateway, port: http}
      - {name: api_internal, port: http}
    tasks:
      - name: api
        image: {repository: example/api, tag: "1.0"}
`;
    const set = loadSet([{ file: 'shapes.yaml', text: spec, kind: 'service' }]);
    expect(set.problems.map((p) => p.subject)).to.include.members(['groups[0].services[0].name', 'groups[0].services[1].name']);
    const obj: O = {
      name: 'shapes',
      groups: [
        {
          name: 'api',
          ports: { http: {} },
          services: [
            { name: 'API-Gateway', port: 'http' },
            { name: 'api_internal', port: 'http' },
          ],
          tasks: [{ name: 'api' }],
        },
      ],
    };
    expect(repair(obj, set.problems)).to.equal(true);
    expect((obj['groups'] as O[])[0]).to.not.have.property('services');
  });

  it('takes a job ID with underscores (node_exporter) whose services name themselves, like a dotted one', () => {
    const spec = `name: node_exporter
type: system
groups:
  - name: node_exporter
    ports:
      metrics: {static: 9100}
    services:
      - {name: node-exporter, port: metrics}
    tasks:
      - name: node_exporter
        driver: raw_exec
        command: /usr/local/bin/node_exporter
`;
    const set = loadSet([{ file: 'node_exporter.yaml', text: spec, kind: 'service' }]);
    expect(set.problems.map(formatProblem)).to.deep.equal([]);
    const unnamed = loadSet([{ file: 'node_exporter.yaml', text: spec.replace('{name: node-exporter, port: metrics}', '{port: metrics}'), kind: 'service' }]);
    expect(unnamed.problems.map(formatProblem).join('\n')).to.include(
      'the job ID `node_exporter` is not a DNS-safe Consul service name; give this service a `name`',
    );
  });

  it('imports a periodic job with the classic single `cron` as `type: periodic`, its exact form (Spec, not Specs) in nomad:', () => {
    const { spec } = liftJob({
      ID: 'weekly',
      Type: 'batch',
      Periodic: { Enabled: true, Spec: '@weekly', Specs: [], SpecType: 'cron', ProhibitOverlap: false, TimeZone: 'UTC' },
      TaskGroups: [{ Name: 'r', Count: 1, Tasks: [{ Name: 'r', Driver: 'exec', Config: { command: 'x' } }] }],
    });
    expect(spec['type']).to.equal('periodic');
    expect(spec['periodic']).to.deep.equal({ cron: '@weekly', prohibit_overlap: false });
    expect(spec['nomad']).to.deep.equal({ Periodic: { Spec: '@weekly', Specs: null } });
  });
});
