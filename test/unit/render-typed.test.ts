/**
 * Issue 12 §1: typed fields for what real Nomad jobs use (docker options,
 * task-level services, check options, job types, template and artifact options).
 * Each renders in the shape Nomad's own HCL parser gives the equivalent HCL: the
 * golden case test/fixtures/golden/typed holds them all, and
 * test/integration/render.test.ts sends its HCL through the real Nomad's
 * `/v1/jobs/parse` and compares field by field. Here: the shapes that matter and
 * the refusals, each with its place.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { formatProblem } from '../../src/errors.js';
import type { Job, TaskGroup } from '../../src/nomad/job.js';
import { renderJob } from '../../src/nomad/render.js';
import { renderJobHcl } from '../../src/nomad/render-hcl.js';
import { loadSet, resolveEnvironment } from '../../src/service-spec/load.js';
import { standalone } from '../../src/service-spec/overlay.js';

function render(text: string, env = 'name: qa\n'): { problems: string[]; job?: Job } {
  const set = loadSet([
    { file: text === TYPED ? 'typed.yaml' : 'web.yaml', text, kind: 'service' },
    { file: 'qa.yaml', text: env, kind: 'environment' },
  ]);
  const problems = set.problems.map(formatProblem);
  return problems.length > 0 ? { problems } : { problems, job: renderJob(resolveEnvironment(set, 'qa')[0]!) };
}

function ok(text: string, env?: string): Job {
  const r = render(text, env);
  expect(r.problems).to.deep.equal([]);
  return r.job!;
}

const TYPED = readFileSync('test/fixtures/golden/typed/typed.yaml', 'utf8');

describe('render: typed docker options (issue 12)', () => {
  const job = (): Job => ok(TYPED);
  const web = () => job().TaskGroups[0]!.Tasks[0]!;

  it("writes them into the task's config in the shape Nomad's parser gives: blocks and map attributes as one-item lists", () => {
    // Nomad's jobspec2 turns `labels = {…}` and `logging {…}` into lists of one object; the docker
    // driver's own spec reads them so (labels is list(map(string))). Anything else would differ from
    // what `nomad job run` of our HCL submits.
    expect(web().Config).to.deep.include({
      image: 'typed/web:1.4.2',
      entrypoint: ['/usr/bin/tini', '--'],
      cap_add: ['NET_BIND_SERVICE'],
      cap_drop: ['ALL'],
      labels: [{ 'com.example/tier': 'frontend', team: 'web' }],
      logging: [{ type: 'json-file', config: [{ 'max-file': '3', 'max-size': '10m' }] }],
      ulimit: [{ nofile: '65536:65536', nproc: '4096' }],
      sysctl: [{ 'net.core.somaxconn': '1024' }],
      shm_size: 67108864,
      image_pull_timeout: '10m',
      force_pull: true,
      auth_soft_fail: true,
    });
    expect(web().Config['mount']).to.deep.equal([
      { type: 'bind', target: '/srv/static', source: 'local/static', readonly: true, bind_options: [{ propagation: 'rshared' }] },
      {
        type: 'volume',
        target: '/cache',
        source: 'web-cache',
        volume_options: [{ no_copy: true, labels: [{ 'com.example/team': 'web' }], driver_config: [{ name: 'local', options: [{ type: 'nfs' }] }] }],
      },
      { type: 'tmpfs', target: '/tmp', tmpfs_options: [{ size: 100000000, mode: 1023 }] },
    ]);
    expect(web().Config['devices']).to.deep.equal([{ host_path: '/dev/fuse', cgroup_permissions: 'rwm' }]);
  });

  it('writes the HCL an operator would: mount, logging and ulimit blocks, labels and sysctl as maps (dotted keys quoted)', () => {
    const hcl = renderJobHcl(job());
    expect(hcl).to.include('        labels = {\n          "com.example/tier" = "frontend"\n          team               = "web"\n        }\n');
    expect(hcl).to.include('        sysctl = {\n          "net.core.somaxconn" = "1024"\n        }\n');
    expect(hcl).to.include('        mount {\n          type     = "bind"\n');
    expect(hcl).to.include('        logging {\n          type = "json-file"\n\n          config {\n');
  });

  it('leaves out what the spec leaves out, so the driver keeps its defaults', () => {
    const plain = ok(`name: web
groups:
  - name: web
    tasks:
      - name: web
        image: {repository: shop/web, tag: "1.0"}
        docker: {}
`);
    expect(plain.TaskGroups[0]!.Tasks[0]!.Config).to.deep.equal({ image: 'shop/web:1.0' });
  });

  it('refuses what the docker driver refuses, each at its place', () => {
    const r = render(`name: web
groups:
  - name: web
    tasks:
      - name: web
        image: {repository: shop/web, tag: "1.0"}
        docker:
          hostname: web
          network_mode: host
          mount:
            - {type: bind, target: /a, tmpfs_options: {size: 10}}
            - {type: tmpfs, source: x, target: /b}
            - {target: /c, bind_options: {propagation: rshared}}
            - {type: nfs, target: /d}
          ulimit: {nofile: "100:10"}
          volumes: ["nocolon"]
      - name: side
        driver: exec
        command: /bin/true
        docker: {privileged: true}
`);
    expect(r.problems).to.deep.equal([
      'web.yaml:8:21  groups[0].tasks[0].docker.hostname  Docker refuses a `hostname` with network_mode host',
      'web.yaml:11:15  groups[0].tasks[0].docker.mount[0]  a bind mount needs a `source` (the host path, or a path in the task directory)',
      'web.yaml:11:55  groups[0].tasks[0].docker.mount[0].tmpfs_options  `tmpfs_options` applies to tmpfs mounts, not bind',
      'web.yaml:12:37  groups[0].tasks[0].docker.mount[1].source  a tmpfs mount has no `source`',
      'web.yaml:13:42  groups[0].tasks[0].docker.mount[2].bind_options  `bind_options` applies to bind mounts, not volume',
      'web.yaml:14:22  groups[0].tasks[0].docker.mount[3].type  `nfs` is not one of bind, volume, tmpfs',
      'web.yaml:15:28  groups[0].tasks[0].docker.ulimit.nofile  the soft limit of nofile (100:10) must not exceed its hard limit',
      'web.yaml:16:21  groups[0].tasks[0].docker.volumes[0]  `nocolon` is not valid: write source:/target or source:/target:ro',
      'web.yaml:20:17  groups[0].tasks[1].docker  `docker` applies to the docker driver, not exec',
    ]);
  });
});

describe('render: services and checks (issue 12)', () => {
  const g = (): TaskGroup => ok(TYPED).TaskGroups[0]!;

  it('leaves an unnamed check unnamed, so Nomad gives it its own default name (`service: "<name>" check`)', () => {
    // Regression: hashiship named unnamed checks `<service>-<type>`, so an imported job changed meaning.
    expect(g().Services![0]!.Checks![0]).to.not.have.property('Name');
    expect(g().Services![0]!.Checks![1]!.Name).to.equal('web-tcp');
  });

  it('renders every check and service option Nomad names', () => {
    expect(g().Services![0]).to.deep.include({
      Name: 'typed-web',
      AddressMode: 'host',
      CanaryTags: ['web', 'canary'],
      CanaryMeta: { version: 'canary' },
      EnableTagOverride: true,
      OnUpdate: 'ignore_warnings',
    });
    expect(g().Services![0]!.Checks![0]).to.deep.include({
      Method: 'POST',
      Header: { Accept: ['application/json', 'text/plain'], 'X-Probe': ['hashiship'] },
      Body: '{"deep":true}',
      TLSSkipVerify: true,
      SuccessBeforePassing: 2,
      FailuresBeforeCritical: 3,
      OnUpdate: 'ignore',
      AddressMode: 'driver',
      PortLabel: '8080',
    });
  });

  it('puts task services on the task, without a TaskName: Nomad sets it to the task when it canonicalizes', () => {
    const admin = g().Tasks[1]!;
    expect(admin.Services).to.deep.equal([
      {
        Name: '${JOB}-${TASK}',
        PortLabel: 'admin',
        Provider: 'consul',
        Checks: [{ Type: 'http', Path: '/ready', Interval: 10e9, Timeout: 2e9 }],
      },
    ]);
  });

  it('refuses check options for other check types, task services with `task` or routes, and a repeated check name', () => {
    const r = render(`name: web
groups:
  - name: web
    ports:
      http: {}
    services:
      - port: http
        checks:
          - {type: tcp, header: {X-A: [b]}, body: x, expose: true}
          - {type: http, path: /h, name: a}
          - {type: http, path: /h, name: a}
          - {type: http, path: /h}
          - {type: http, path: /h}
    tasks:
      - name: web
        image: {repository: shop/web, tag: "1.0"}
        services:
          - {name: web-side, port: http, task: web, routes: [{host: web}]}
          - {name: "\${TASK}-x", port: htp}
`);
    expect(r.problems).to.deep.equal([
      'web.yaml:9:33  groups[0].services[0].checks[0].header  `header` applies to http checks, not tcp',
      'web.yaml:9:51  groups[0].services[0].checks[0].body  `body` applies to http checks, not tcp',
      'web.yaml:9:62  groups[0].services[0].checks[0].expose  `expose` applies to http and grpc checks, not tcp',
      'web.yaml:11:42  groups[0].services[0].checks[2].name  check name `a` is already used by checks[1] of this service',
      'web.yaml:18:48  groups[0].tasks[0].services[0].task  a task service belongs to its task; remove `task`',
      'web.yaml:18:61  groups[0].tasks[0].services[0].routes  routes belong to group services: promotions steer Fabio weights through the group service',
      'web.yaml:19:39  groups[0].tasks[0].services[1].port  port `htp` is not declared in groups[0].ports; did you mean `http`?',
    ]);
  });
});

describe('render: task services share the Consul names of the set (issue 12)', () => {
  it('refuses a task service registered under a name another service has, with ${TASK} expanded to the task', () => {
    expect(
      render(`name: web
groups:
  - name: web
    ports:
      http: {}
    services:
      - port: http
    tasks:
      - name: web
        image: {repository: shop/web, tag: "1.0"}
        services:
          - port: http
          - {name: "\${JOB}-\${TASK}", port: http}
          - {name: web-web, port: http}
`).problems,
    ).to.deep.equal([
      'web.yaml:12:13  groups[0].tasks[0].services[0]  Consul service `web` is already registered by web.yaml (groups[0].services[0])',
      'web.yaml:14:20  groups[0].tasks[0].services[2].name  Consul service `web-web` is already registered by web.yaml (groups[0].tasks[0].services[1].name)',
    ]);
  });
});

describe('render: job types, groups, templates and artifacts (issue 12)', () => {
  it('renders sysbatch without count or update, parameterized with its meta and payload', () => {
    const job = ok(`name: web
type: sysbatch
parameterized: {payload: required, meta_required: [customer], meta_optional: [dry_run]}
groups:
  - name: web
    tasks:
      - name: web
        image: {repository: shop/web, tag: "1.0"}
`);
    expect(job.Type).to.equal('sysbatch');
    expect(job.ParameterizedJob).to.deep.equal({ Payload: 'required', MetaRequired: ['customer'], MetaOptional: ['dry_run'] });
    expect(job.TaskGroups[0]).to.not.have.any.keys('Count', 'Update');
    expect(renderJobHcl(job)).to.include(
      '  parameterized {\n    payload       = "required"\n    meta_required = ["customer"]\n    meta_optional = ["dry_run"]\n  }\n',
    );
  });

  it('renders several crons as `crons`, and an environment cron replaces them', () => {
    const spec = `name: web
type: periodic
periodic: {crons: ["0 3 * * *", "0 15 * * *"], time_zone: Europe/Berlin, prohibit_overlap: false}
groups:
  - name: report
    tasks:
      - name: report
        image: {repository: shop/report, tag: "1.0"}
`;
    expect(ok(spec).Periodic).to.deep.equal({
      Enabled: true,
      Specs: ['0 3 * * *', '0 15 * * *'],
      SpecType: 'cron',
      ProhibitOverlap: false,
      TimeZone: 'Europe/Berlin',
    });
    expect(ok(spec, 'name: qa\nservices:\n  web:\n    periodic: {cron: "@hourly"}\n').Periodic!.Specs).to.deep.equal(['@hourly']);
  });

  it('refuses what Nomad refuses for job types: cron and crons together, parameterized periodic jobs, count on sysbatch', () => {
    expect(
      render(`name: web
type: sysbatch
periodic: {cron: "@daily", crons: ["@hourly"]}
parameterized: {meta_required: [a], meta_optional: [a]}
groups:
  - name: web
    count: 2
    tasks:
      - name: web
        image: {repository: shop/web, tag: "1.0"}
`).problems,
    ).to.deep.equal([
      'web.yaml:3:11  periodic  a parameterized job is started by dispatch, not on a schedule: remove `periodic` or `parameterized`',
      'web.yaml:3:11  periodic  set exactly one of `cron` and `crons`',
      'web.yaml:4:53  parameterized.meta_optional[0]  `a` is already in meta_required',
      'web.yaml:7:12  groups[0].count  sysbatch jobs run one allocation per node; remove `count`',
    ]);
    expect(
      render(`name: web
type: periodic
periodic: {crons: ["@daily", "61 * * * *"]}
parameterized: {payload: required}
groups:
  - name: web
    tasks:
      - name: web
        image: {repository: shop/web, tag: "1.0"}
`).problems,
    ).to.deep.equal([
      'web.yaml:3:30  periodic.crons[1]  `61 * * * *` is not a valid cron expression: minute 61 is out of range 0-59',
      'web.yaml:4:16  parameterized  `parameterized` applies to batch and sysbatch jobs, not periodic',
    ]);
  });

  it('renders the ui block, disconnect, task shutdown_delay, template and artifact options', () => {
    const job = ok(TYPED);
    expect(job.UI).to.deep.equal({ Description: 'Typed fields of issue 12', Links: [{ Label: 'Runbook', URL: 'https://runbooks.example.com/typed' }] });
    const g = job.TaskGroups[0]!;
    expect(g.Disconnect).to.deep.equal({ LostAfter: 1800e9, Replace: false, Reconcile: 'keep_original' });
    const web = g.Tasks[0]!;
    expect(web.ShutdownDelay).to.equal(10e9);
    expect(web.Artifacts![0]).to.deep.include({ GetterHeaders: { 'X-Client': 'hashiship' }, Chown: true });
    expect(web.Templates![0]).to.deep.include({
      SourcePath: 'local/static/web.conf.tpl',
      Uid: 1000,
      Gid: 1000,
      Splay: 30e9,
      Wait: { Min: 2e9, Max: 10e9 },
      Once: true,
      ErrMissingKey: true,
    });
    expect(web.Templates![0]).to.not.have.property('EmbeddedTmpl');
  });

  it('refuses a template with both or neither of data and source, and a wait whose min exceeds its max', () => {
    expect(
      render(`name: web
groups:
  - name: web
    tasks:
      - name: web
        image: {repository: shop/web, tag: "1.0"}
        templates:
          - {destination: local/a, data: x, source: local/b}
          - {destination: local/c}
          - {destination: local/d, wait: {min: 10s, max: 2s}, data: y}
`).problems,
    ).to.deep.equal([
      'web.yaml:8:13  groups[0].tasks[0].templates[0]  set exactly one of `data` and `source`',
      'web.yaml:9:13  groups[0].tasks[0].templates[1]  set exactly one of `data` and `source`',
      'web.yaml:10:48  groups[0].tasks[0].templates[2].wait.min  wait.min (10s) must not exceed wait.max (2s)',
    ]);
  });
});

describe('render: vault options, cores, devices and volume options (issue 12)', () => {
  const DISPATCH = readFileSync('test/fixtures/golden/typed-dispatch/typed-dispatch.yaml', 'utf8');
  const dispatch = (): Job => {
    const set = loadSet([{ file: 'typed-dispatch.yaml', text: DISPATCH, kind: 'service' }]);
    expect(set.problems.map(formatProblem)).to.deep.equal([]);
    return renderJob(standalone(set.services[0]!));
  };

  it('renders the vault block with its options, and cores without the default cpu (Nomad refuses both)', () => {
    const t = dispatch().TaskGroups[0]!.Tasks[0]!;
    expect(t.Vault).to.deep.equal({ Role: 'reindex', Env: true, DisableFile: true, ChangeMode: 'signal', ChangeSignal: 'SIGHUP' });
    expect(t.Resources).to.not.have.property('CPU');
    expect(t.Resources).to.deep.include({ Cores: 2, MemoryMB: 512 });
    expect(t.Resources.Devices).to.deep.equal([
      {
        Name: 'nvidia/gpu',
        Count: 2,
        Constraints: [{ LTarget: '${device.attr.memory}', RTarget: '2 GiB', Operand: '>=' }],
        Affinities: [{ LTarget: '${device.model}', RTarget: 'Tesla T4', Operand: '=', Weight: 50 }],
      },
    ]);
  });

  it("keeps the token out of the task's environment by default (hashiship's opinion), with the environment's role", () => {
    const t = ok(
      `name: web
groups:
  - name: web
    tasks:
      - name: web
        image: {repository: shop/web, tag: "1.0"}
        secrets:
          - {env: DB_PASSWORD, path: secret/data/web/db, key: password}
`,
      'name: qa\nvault_role: web-qa\n',
    ).TaskGroups[0]!.Tasks[0]!;
    expect(t.Vault).to.deep.equal({ Role: 'web-qa', Env: false, DisableFile: false, ChangeMode: 'restart' });
  });

  it('renders sticky host volumes and CSI mount options', () => {
    const set = loadSet([{ file: 'typed-cron.yaml', text: readFileSync('test/fixtures/golden/typed-cron/typed-cron.yaml', 'utf8'), kind: 'service' }]);
    expect(set.problems.map(formatProblem)).to.deep.equal([]);
    const v = renderJob(standalone(set.services[0]!)).TaskGroups[0]!.Volumes!;
    expect(v['scratch']).to.deep.include({ Type: 'host', Sticky: true, AccessMode: 'single-node-single-writer' });
    expect(v['archive']).to.deep.include({ Type: 'csi', MountOptions: { FSType: 'ext4', MountFlags: ['noatime'] } });
  });

  it('refuses cpu with cores, a repeated device, vault signal options that do not fit, and access modes of the other volume type', () => {
    expect(
      render(`name: web
groups:
  - name: web
    count: 1
    volumes:
      a: {type: host, source: a, access_mode: multi-node-multi-writer}
      b: {type: csi, source: b, access_mode: single-node-multi-writer, attachment_mode: block-device, mount_options: {fs_type: ext4}}
    tasks:
      - name: web
        image: {repository: shop/web, tag: "1.0"}
        mounts: [{volume: a, destination: /a}, {volume: b, destination: /b}]
        vault: {change_mode: signal}
        resources:
          cpu: 500
          cores: 1
          devices: [{name: gpu}, {name: gpu, count: 2}]
      - name: side
        image: {repository: shop/side, tag: "1.0"}
        lifecycle: {hook: prestart}
        vault: {change_signal: SIGHUP}
`).problems,
    ).to.deep.equal([
      'web.yaml:6:47  groups[0].volumes.a.access_mode  `multi-node-multi-writer` applies to csi volumes; a host volume takes a single-node mode',
      'web.yaml:7:46  groups[0].volumes.b.access_mode  `single-node-multi-writer` applies to host volumes; a csi volume takes single-node-writer, single-node-reader-only or a multi-node mode',
      'web.yaml:7:118  groups[0].volumes.b.mount_options  mount_options apply to csi volumes with attachment_mode file-system',
      'web.yaml:12:16  groups[0].tasks[0].vault  change_mode signal needs a `change_signal`',
      'web.yaml:15:18  groups[0].tasks[0].resources.cores  Nomad reserves either `cpu` or `cores`, not both',
      'web.yaml:16:41  groups[0].tasks[0].resources.devices[1].name  device `gpu` is already requested by devices[0]',
      'web.yaml:20:32  groups[0].tasks[1].vault.change_signal  change_signal needs change_mode `signal`',
    ]);
  });
});

describe("render: hashiship's opinions, switched per environment (issue 12 §3)", () => {
  const SPEC = `name: web
type: service
groups:
  - name: web
    count: 2
    update: {canary: 1}
    ports:
      http: {to: 8080}
    services:
      - port: http
        tags: [traefik.enable=true]
    tasks:
      - name: web
        image: {repository: shop/web, tag: "1.0"}
        secrets:
          - {env: DB_PASSWORD, path: secret/data/web/db, key: password}
`;
  const NOMADLIKE = `name: qa
update: {auto_revert: false}
defaults:
  shutdown_delay: 0s
  memory: 300
  vault_env: true
  canary_tags: nomad
  publish_ports: listed
  prohibit_overlap: false
`;

  it("renders hashiship's opinions by default", () => {
    const g = ok(SPEC).TaskGroups[0]!;
    expect(g.ShutdownDelay).to.equal(5e9);
    expect(g.Update!.AutoRevert).to.equal(true);
    expect(g.Services![0]!.CanaryTags).to.deep.equal(['traefik.enable=true', 'canary']);
    expect(g.Tasks[0]!.Config['ports']).to.deep.equal(['http']);
    expect(g.Tasks[0]!.Resources.MemoryMB).to.equal(128);
    expect(g.Tasks[0]!.Vault!.Env).to.equal(false);
  });

  it('renders a group shutdown_delay of 0s as absent: Nomad has no field for it', () => {
    const g = ok(SPEC.replace('    count: 2\n', '    count: 2\n    shutdown_delay: 0s\n')).TaskGroups[0]!;
    expect(g.Services).to.have.length(1);
    expect(g).to.not.have.property('ShutdownDelay');
  });

  it("renders Nomad's defaults where the environment's `defaults:` switches the opinions off", () => {
    const g = ok(SPEC, NOMADLIKE).TaskGroups[0]!;
    // Nomad has no field for a zero delay: it is left out, as Nomad leaves it.
    expect(g).to.not.have.property('ShutdownDelay');
    expect(g.Update!.AutoRevert).to.equal(false);
    expect(g.Services![0]).to.not.have.property('CanaryTags');
    expect(g.Tasks[0]!.Config).to.not.have.property('ports');
    expect(g.Tasks[0]!.Resources.MemoryMB).to.equal(300);
    expect(g.Tasks[0]!.Vault!.Env).to.equal(true);
    const periodic = ok(
      `name: web
type: periodic
periodic: {cron: "@daily"}
groups:
  - name: web
    tasks:
      - name: web
        image: {repository: shop/web, tag: "1.0"}
`,
      NOMADLIKE,
    );
    expect(periodic.Periodic!.ProhibitOverlap).to.equal(false);
  });

  it('keeps what the spec says over the environment, and the canary tag on routed services (promotions need it)', () => {
    const routed = SPEC.replace('        tags: [traefik.enable=true]', '        tags: [web]\n        routes: [{host: web}]').replace(
      '        image:',
      '        resources: {memory: 64}\n        image:',
    );
    const g = ok(routed, NOMADLIKE).TaskGroups[0]!;
    expect(g.Services![0]!.CanaryTags).to.deep.equal(['web', 'urlprefix-web/', 'canary']);
    expect(g.Tasks[0]!.Resources.MemoryMB).to.equal(64);
  });
});

/**
 * The fields `hashiship import` used to leave to `nomad:` (issue 12): each renders
 * what Nomad's parser gives for the HCL a team writes (the import corpus sends them
 * through the real Nomad), and each refusal names its place.
 */
describe('render: datacenters left to Nomad, job-level update, dispatch payload, CSI plugins, DNS (issue 12)', () => {
  const base = (top: string, group = '', task = '') => `name: web
${top}groups:
  - name: web
${group}    tasks:
      - name: web
        image: {repository: shop/web, tag: "1.0"}
${task}`;

  it('renders `datacenters: []` as no datacenters (Nomad fills in ["*"] when it registers the job); unset stays ["*"] written out', () => {
    const none = ok(base('datacenters: []\n'));
    expect(none).to.not.have.property('Datacenters');
    expect(renderJobHcl(none)).to.not.include('datacenters');
    expect(ok(base('')).Datacenters).to.deep.equal(['*']);
    // An environment that names datacenters still wins over the spec's [].
    expect(ok(base('datacenters: []\n'), 'name: qa\ndatacenters: [dc1]\n').Datacenters).to.deep.equal(['dc1']);
  });

  it("renders the job's update block with only its fields, and every group's update field by field: group, then job, then hashiship's default", () => {
    const job = ok(
      base('update: {max_parallel: 2, canary: 1, auto_revert: false, stagger: 10s}\n', '    count: 3\n    update: {canary: 2}\n'),
      'name: qa\nupdate: {min_healthy_time: 20s}\n',
    );
    expect(job.Update).to.deep.equal({ MaxParallel: 2, Canary: 1, AutoRevert: false, Stagger: 10e9 });
    expect(job.TaskGroups[0]!.Update).to.deep.equal({
      MaxParallel: 2,
      Canary: 2,
      HealthCheck: 'checks',
      MinHealthyTime: 20e9,
      HealthyDeadline: 300e9,
      ProgressDeadline: 600e9,
      AutoRevert: false,
      AutoPromote: false,
      Stagger: 10e9,
    });
    expect(renderJobHcl(job)).to.include('  update {\n    max_parallel = 2\n    canary       = 1\n    auto_revert  = false\n    stagger      = "10s"\n  }\n');
    // The environment's fields win in the job-level block too (the groups have them already), where that block
    // sets them; not auto_promote, which the environment sets only for groups with canaries — here the group's
    // canary comes from the job-level block, and the environment's auto_promote: false reaches it.
    const envWins = ok(
      base('update: {max_parallel: 2, min_healthy_time: 30s, canary: 1, auto_promote: true}\n'),
      'name: qa\nupdate: {min_healthy_time: 3s, max_parallel: 1, healthy_deadline: 2m, auto_promote: false}\n',
    );
    expect(envWins.Update).to.deep.equal({ MaxParallel: 1, Canary: 1, MinHealthyTime: 3e9, AutoPromote: true });
    expect(envWins.TaskGroups[0]!.Update).to.deep.include({ MaxParallel: 1, Canary: 1, MinHealthyTime: 3e9, HealthyDeadline: 120e9, AutoPromote: false });
    // Without a job-level block nothing changes: no job Update, no group Stagger (Nomad's 30s).
    const plain = ok(base(''));
    expect(plain).to.not.have.property('Update');
    expect(plain.TaskGroups[0]!.Update).to.not.have.property('Stagger');
  });

  it('renders a periodic sysbatch job: type sysbatch with its schedule', () => {
    const job = ok(base('type: sysbatch\nperiodic: {cron: "0 3 * * *", time_zone: Europe/Berlin}\n'));
    expect(job.Type).to.equal('sysbatch');
    expect(job.Periodic).to.deep.equal({ Enabled: true, Specs: ['0 3 * * *'], SpecType: 'cron', ProhibitOverlap: true, TimeZone: 'Europe/Berlin' });
  });

  it('renders dispatch_payload, csi_plugin, group dns, docker pid_mode/ipc_mode and an interpolated hostname, and java class_path', () => {
    const job = ok(
      base(
        'type: batch\nparameterized: {payload: required}\n',
        '    network_mode: bridge\n    dns: {servers: [10.0.0.2], searches: [svc.internal], options: ["ndots:2"]}\n',
        `        dispatch_payload: {file: input/job.json}
        csi_plugin: {id: ebs, type: node, stage_publish_base_dir: /local/stage, health_timeout: 1m}
        docker: {pid_mode: host, ipc_mode: host, hostname: "\${attr.unique.hostname}"}
`,
      ),
    );
    const t = job.TaskGroups[0]!.Tasks[0]!;
    expect(t.DispatchPayload).to.deep.equal({ File: 'input/job.json' });
    expect(t.CSIPluginConfig).to.deep.equal({ ID: 'ebs', Type: 'node', StagePublishBaseDir: '/local/stage', HealthTimeout: 60e9 });
    expect(t.Config).to.deep.include({ pid_mode: 'host', ipc_mode: 'host', hostname: '${attr.unique.hostname}' });
    expect(job.TaskGroups[0]!.Networks).to.deep.equal([{ Mode: 'bridge', DNS: { Servers: ['10.0.0.2'], Searches: ['svc.internal'], Options: ['ndots:2'] } }]);
    const hcl = renderJobHcl(job);
    expect(hcl).to.include('      dispatch_payload {\n        file = "input/job.json"\n      }\n');
    expect(hcl).to.include('      dns {\n        servers  = ["10.0.0.2"]\n        searches = ["svc.internal"]\n        options  = ["ndots:2"]\n      }\n');
    const java = ok(`name: web
groups:
  - name: web
    tasks:
      - name: web
        driver: java
        class: com.example.Main
        class_path: \${NOMAD_TASK_DIR}/lib/*
`);
    expect(java.TaskGroups[0]!.Tasks[0]!.Config).to.deep.equal({ class: 'com.example.Main', class_path: '${NOMAD_TASK_DIR}/lib/*' });
  });

  it('refuses what Nomad refuses, each at its place: a payload file outside the allocation, a staging dir in the socket dir, update on batch, job-level canaries of a system job', () => {
    expect(
      render(
        base(
          'type: batch\nupdate: {max_parallel: 2}\n',
          '',
          '        dispatch_payload: {file: ../../../etc/passwd}\n        csi_plugin: {id: ebs, type: node, mount_dir: /csi, stage_publish_base_dir: /csi/stage}\n',
        ),
      ).problems,
    ).to.deep.equal([
      'web.yaml:3:9  update  `update` applies to service and system jobs, not batch',
      "web.yaml:9:34  groups[0].tasks[0].dispatch_payload.file  `../../../etc/passwd` leaves the allocation directory (Nomad refuses it); name a file under the task's local/ directory",
      'web.yaml:10:84  groups[0].tasks[0].csi_plugin.stage_publish_base_dir  stage_publish_base_dir (/csi/stage) must not be inside mount_dir (/csi); Nomad refuses it',
    ]);
    // A job-level value is reported where it is written, not at the group that inherits it.
    expect(render(base('type: system\nupdate: {canary: 1}\n')).problems).to.deep.equal(['web.yaml:3:18  update.canary  system jobs cannot have canaries']);
    expect(render(base('update: {canary: 2}\n')).problems).to.deep.equal(['web.yaml:2:18  update.canary  canary (2) must not exceed count (1)']);
    expect(render(base('type: service\nperiodic: {cron: "@daily"}\n')).problems).to.deep.equal([
      'web.yaml:3:11  periodic  `periodic` applies to periodic and sysbatch jobs, not service',
    ]);
    expect(render(base('', '', '        class_path: lib/*\n        docker: {pid_mode: shared}\n')).problems).to.deep.equal([
      'web.yaml:7:21  groups[0].tasks[0].class_path  `class_path` applies to the java driver, not docker',
      'web.yaml:8:28  groups[0].tasks[0].docker.pid_mode  `shared` is not valid: write host or container:<name>',
    ]);
  });

  it('refuses `class` and `class_path` beside a java `jar` (Nomad would pass the class to the jar, and java -jar ignores -cp), unless the task opts out with a reason', () => {
    const java = (extra: string) => `name: web
groups:
  - name: web
    tasks:
      - name: web
        driver: java
        jar: {source: "https://artifacts.example.com/web-1.0.jar"}
${extra}`;
    const problems = render(java('        class: com.example.Main\n        class_path: local/lib/*\n')).problems;
    expect(problems).to.have.length(2);
    expect(problems[0]).to.match(/^web\.yaml:8:16 {2}groups\[0\]\.tasks\[0\]\.class {2}beside a `jar`, Nomad runs `java -jar <jar> com\.example\.Main`/);
    expect(problems[1]).to.match(/^web\.yaml:9:21 {2}groups\[0\]\.tasks\[0\]\.class_path {2}`java -jar` ignores the class path/);
    for (const p of problems) expect(p).to.include('allow: {jar_and_class: <reason>}');
    // Opted out, the job is rendered as Nomad runs it: both beside the jar.
    const kept = ok(java('        class: com.example.Main\n        allow: {jar_and_class: "the jar dispatches on its first argument"}\n'));
    expect(kept.TaskGroups[0]!.Tasks[0]!.Config).to.deep.include({ jar_path: 'local/web-1.0.jar', class: 'com.example.Main' });
    // A jar alone, or a class on the class path, is fine.
    expect(render(java('')).problems).to.deep.equal([]);
  });
});
