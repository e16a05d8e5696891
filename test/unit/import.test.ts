/**
 * `hashiship import`, the parts that need no server: the field-by-field
 * comparison, the raw patches, the typed lifting of hashiship's opinions, the
 * environment split, the write rules, and the CLI's input checks (every server at
 * a closed port: an input error found after contacting one would be exit 2).
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli.js';
import type { Session } from '../../src/commands/runner.js';
import { redactorFromEnv } from '../../src/redact.js';
import { InputError } from '../../src/errors.js';
import { compacted, jobDifferences, rawPatch } from '../../src/service-spec/import/diff.js';
import { environmentOverride } from '../../src/service-spec/import/environments.js';
import { liftImage, liftJob } from '../../src/service-spec/import/lift.js';
import { readSources } from '../../src/service-spec/import/index.js';
import { duplicateJsonKey, joinVariables, varFlags } from '../../src/service-spec/import/parse.js';
import { checkWrites, writeFiles } from '../../src/service-spec/import/write.js';
import { renderJob } from '../../src/nomad/render.js';
import { renderJobHcl } from '../../src/nomad/render-hcl.js';
import { loadSet } from '../../src/service-spec/load.js';
import { standalone } from '../../src/service-spec/overlay.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hashiship-import-unit-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('import: comparing jobs', () => {
  it('ignores the ownership stamp, and an absent field equals null', () => {
    const a = { ID: 'web', Meta: null, Stop: null };
    const b = { ID: 'web', Meta: { hashiship_tool: 'hashiship', hashiship_spec_hash: 'ab', hashiship_environment: 'qa' } };
    expect(jobDifferences(a, b)).to.deep.equal([]);
  });

  it('names every differing field by its path', () => {
    const a = { TaskGroups: [{ Name: 'g', Count: 1, Tasks: [{ Name: 't', Env: { A: '1' } }] }] };
    const b = { TaskGroups: [{ Name: 'g', Count: 2, Tasks: [{ Name: 't', Env: { A: '2', B: 'x' } }] }] };
    expect(jobDifferences(a, b).map((d) => d.path)).to.deep.equal(['TaskGroups[0].Count', 'TaskGroups[0].Tasks[0].Env.A', 'TaskGroups[0].Tasks[0].Env.B']);
  });
});

describe('import: raw patches', () => {
  it('merges maps key by key, removes with null, replaces lists, and leaves owned fields alone', () => {
    const original = { Name: 'g', ShutdownDelay: null, Update: { Canary: 0, Stagger: 30e9 }, Services: [{ Name: 'a', Tags: null }] };
    const rendered = { Name: 'x', ShutdownDelay: 5e9, Update: { Canary: 0, Stagger: 10e9 }, Services: [{ Name: 'b' }] };
    expect(rawPatch(original, rendered, ['Name'])).to.deep.equal({ ShutdownDelay: null, Update: { Stagger: 30e9 }, Services: [{ Name: 'a' }] });
  });

  it('leaves out of list items what Nomad fills in the same way when compact', () => {
    expect(compacted([{ Name: 'web', AddressMode: 'auto', Tags: [], Port: 0, Provider: 'nomad' }])).to.deep.equal([{ Name: 'web', Provider: 'nomad' }]);
  });
});

describe('import: typed lifting keeps the meaning of the job', () => {
  const job = {
    ID: 'web',
    Type: 'service',
    Namespace: 'default',
    Region: 'global',
    Priority: 50,
    Datacenters: ['dc1'],
    TaskGroups: [
      {
        Name: 'web',
        Count: 2,
        Update: {
          MaxParallel: 1,
          Canary: 1,
          HealthCheck: 'checks',
          MinHealthyTime: 10e9,
          HealthyDeadline: 300e9,
          ProgressDeadline: 600e9,
          AutoRevert: false,
          AutoPromote: false,
        },
        EphemeralDisk: { SizeMB: 300 },
        Services: [{ Name: 'web', PortLabel: 'http', Tags: ['a'], CanaryTags: null }],
        Tasks: [{ Name: 'web', Driver: 'docker', Config: { image: 'nginx:latest' }, Resources: { CPU: 100, MemoryMB: 300 }, KillTimeout: 5e9 }],
      },
    ],
  };

  it("writes Nomad's values where hashiship's defaults differ: auto_revert, canary tags, memory", () => {
    const { spec, latest } = liftJob(job);
    const g = (spec['groups'] as Record<string, unknown>[])[0]!;
    expect(g['update']).to.deep.equal({ canary: 1, auto_revert: false });
    expect((g['services'] as Record<string, unknown>[])[0]).to.deep.equal({ port: 'http', tags: ['a'], canary_tags: [] });
    const t = (g['tasks'] as Record<string, unknown>[])[0]!;
    expect(t['resources']).to.deep.equal({ memory: 300 });
    expect(t['image']).to.deep.equal({ repository: 'nginx', tag: 'latest' });
    expect(latest).to.deep.equal([{ group: 0, task: 0 }]);
    expect(spec).to.not.have.any.keys('namespace', 'region', 'priority', 'type');
  });

  it("writes shutdown_delay: 0s for a group with services and none (hashiship's opinion gives it 5s), nothing without services", () => {
    expect(groupOf(liftJob(job).spec)['shutdown_delay']).to.equal('0s');
    expect(groupOf(liftJob({ ...job, TaskGroups: [{ ...job.TaskGroups[0]!, ShutdownDelay: 5e9 }] }).spec)['shutdown_delay']).to.equal('5s');
    const { Services: _, ...noServices } = job.TaskGroups[0]!;
    expect(groupOf(liftJob({ ...job, TaskGroups: [{ ...noServices, ShutdownDelay: 0 }] }).spec)).to.not.have.property('shutdown_delay');
  });

  type O = Record<string, unknown>;
  const groupOf = (spec: O, i = 0) => (spec['groups'] as O[])[i]!;
  const taskOf = (spec: O) => (groupOf(spec)['tasks'] as O[])[0]!;

  it('writes docker options typed from the shapes Nomad parses them into (blocks and maps as one-item lists); others stay in config', () => {
    const config = {
      image: 'shop/web:1.0',
      ports: ['http'],
      entrypoint: ['/bin/tini', '--'],
      labels: [{ team: 'shop' }],
      logging: [{ type: 'syslog', config: [{ tag: 'web' }] }],
      ulimit: [{ nofile: '65536:65536' }],
      mount: [
        {
          type: 'volume',
          target: '/data',
          source: 'cache',
          volume_options: [{ no_copy: true, driver_config: [{ name: 'local', options: [{ type: 'tmpfs' }] }] }],
        },
      ],
      privileged: false,
      pid_mode: 'host',
      // Not typed: stays in the task's config (nomad:).
      userns_mode: 'host',
    };
    const lifted = liftJob({ ...job, TaskGroups: [{ ...job.TaskGroups[0]!, Tasks: [{ ...job.TaskGroups[0]!.Tasks[0]!, Config: config }] }] });
    expect(taskOf(lifted.spec)['docker']).to.deep.equal({
      entrypoint: ['/bin/tini', '--'],
      privileged: false,
      mount: [
        { type: 'volume', target: '/data', source: 'cache', volume_options: { no_copy: true, driver_config: { name: 'local', options: { type: 'tmpfs' } } } },
      ],
      labels: { team: 'shop' },
      logging: { type: 'syslog', config: { tag: 'web' } },
      ulimit: { nofile: '65536:65536' },
      pid_mode: 'host',
    });
  });

  it("writes the job-level update (what differs from Nomad's defaults) once, and in groups only what differs from it", () => {
    const jobUpdate = { ...job.TaskGroups[0]!.Update, MaxParallel: 2, Canary: 1, AutoRevert: true, Stagger: 10e9 };
    const lifted = liftJob({ ...job, Update: jobUpdate, TaskGroups: [{ ...job.TaskGroups[0]!, Update: { ...jobUpdate, MinHealthyTime: 20e9 } }] });
    expect(lifted.spec['update']).to.deep.equal({ max_parallel: 2, canary: 1, auto_revert: true, stagger: '10s' });
    expect(groupOf(lifted.spec)['update']).to.deep.equal({ min_healthy_time: '20s' });
    // Nomad's canonical job-level update (its defaults) is no update block at all.
    const plain = { ...job.TaskGroups[0]!.Update, Canary: 0, Stagger: 30e9 };
    expect(liftJob({ ...job, Update: plain }).spec).to.not.have.property('update');
  });

  it('writes `datacenters: []` for a job without datacenters, nothing for ["*"], and a periodic sysbatch job as sysbatch with its schedule', () => {
    const { Datacenters: _, ...none } = job;
    expect(liftJob(none).spec['datacenters']).to.deep.equal([]);
    expect(liftJob({ ...job, Datacenters: ['*'] }).spec).to.not.have.property('datacenters');
    const periodic = { Enabled: true, Specs: ['0 3 * * *'], SpecType: 'cron', ProhibitOverlap: true, TimeZone: 'UTC' };
    const { Update: __, ...group } = job.TaskGroups[0]!;
    const sys = liftJob({ ...job, Type: 'sysbatch', Periodic: periodic, TaskGroups: [{ ...group, Count: 1 }] }).spec;
    expect(sys['type']).to.equal('sysbatch');
    expect(sys['periodic']).to.deep.equal({ cron: '0 3 * * *' });
  });

  it("writes dispatch_payload, csi_plugin (Nomad's defaults left out), group dns, and java class_path", () => {
    const task = {
      ...job.TaskGroups[0]!.Tasks[0]!,
      DispatchPayload: { File: 'job.json' },
      CSIPluginConfig: { ID: 'nfs', Type: 'node', MountDir: '/csi', StagePublishBaseDir: '/local/csi', HealthTimeout: 30e9 },
    };
    const g = { ...job.TaskGroups[0]!, Networks: [{ Mode: '', DNS: { Servers: ['1.1.1.1'], Searches: null, Options: null } }], Tasks: [task] };
    const spec = liftJob({ ...job, TaskGroups: [g] }).spec;
    expect(taskOf(spec)['dispatch_payload']).to.deep.equal({ file: 'job.json' });
    expect(taskOf(spec)['csi_plugin']).to.deep.equal({ id: 'nfs', type: 'node' });
    expect(groupOf(spec)['dns']).to.deep.equal({ servers: ['1.1.1.1'] });
    const java = { ...task, Driver: 'java', Config: { class: 'Main', class_path: '${NOMAD_TASK_DIR}/lib/*' } };
    expect(taskOf(liftJob({ ...job, TaskGroups: [{ ...g, Tasks: [java] }] }).spec)).to.deep.include({ class: 'Main', class_path: '${NOMAD_TASK_DIR}/lib/*' });
  });

  it("writes ports: [] for the group's only docker task when it publishes none (hashiship would publish every group port)", () => {
    const g = { ...job.TaskGroups[0]!, Networks: [{ Mode: 'host', DynamicPorts: [{ Label: 'http', Value: 0, To: 0, HostNetwork: 'default' }] }] };
    expect(taskOf(liftJob({ ...job, TaskGroups: [g] }).spec)['ports']).to.deep.equal([]);
    const published = { ...g, Tasks: [{ ...g.Tasks[0]!, Config: { image: 'nginx:1.27', ports: ['http'] } }] };
    expect(taskOf(liftJob({ ...job, TaskGroups: [published] }).spec)['ports']).to.deep.equal(['http']);
  });

  it("writes vault, task services and check options with Nomad's defaults left out, and hashiship's opinions stated", () => {
    const task = {
      ...job.TaskGroups[0]!.Tasks[0]!,
      Vault: { Role: 'web', Env: true, DisableFile: false, ChangeMode: 'restart', ChangeSignal: 'SIGHUP', Cluster: 'default' },
      ShutdownDelay: 3e9,
      Services: [
        {
          Name: 'web-admin',
          PortLabel: 'admin',
          TaskName: 'web',
          AddressMode: 'auto',
          OnUpdate: 'require_healthy',
          EnableTagOverride: true,
          CanaryMeta: { track: 'canary' },
          Checks: [
            {
              Name: 'service: "web-admin" check',
              Type: 'http',
              PortLabel: 'admin',
              Path: '/health',
              Method: 'PATCH',
              Header: { 'X-Probe': ['1'] },
              TaskName: 'web',
              Interval: 10e9,
              Timeout: 2e9,
              SuccessBeforePassing: 0,
              FailuresBeforeCritical: 2,
              OnUpdate: 'ignore',
            },
          ],
        },
      ],
    };
    const t = taskOf(liftJob({ ...job, TaskGroups: [{ ...job.TaskGroups[0]!, Tasks: [task] }] }).spec);
    expect(t['vault']).to.deep.equal({ role: 'web', env: true });
    expect(t['shutdown_delay']).to.equal('3s');
    expect(t['services']).to.deep.equal([
      {
        name: 'web-admin',
        port: 'admin',
        canary_tags: [],
        canary_meta: { track: 'canary' },
        enable_tag_override: true,
        checks: [
          { type: 'http', port: 'admin', path: '/health', method: 'PATCH', header: { 'X-Probe': ['1'] }, failures_before_critical: 2, on_update: 'ignore' },
        ],
      },
    ]);
  });

  it('writes Connect, the service identity, task identities and secret blocks typed, zero values left out', () => {
    const g0 = job.TaskGroups[0]!;
    const svc = {
      ...g0.Services[0]!,
      Identity: { Audience: ['consul.io'], TTL: 3600e9 },
      Connect: {
        Native: false,
        SidecarService: {
          Port: '',
          Tags: ['mesh'],
          DisableDefaultTCPCheck: false,
          Proxy: {
            LocalServicePort: 0,
            Upstreams: [{ DestinationName: 'db', LocalBindPort: 5432, MeshGateway: { Mode: '' }, Datacenter: '' }],
            Expose: { Paths: [{ Path: '/health', Protocol: 'http', LocalPathPort: 8080, ListenerPort: 'hc' }] },
            Config: null,
          },
        },
        SidecarTask: { Resources: { CPU: 200, MemoryMB: 96 } },
      },
    };
    const task = {
      ...g0.Tasks[0]!,
      Identity: { Env: true, File: true },
      Identities: [{ Name: 'vault_default', Audience: ['vault.io'], TTL: 3600e9, ChangeMode: 'signal', ChangeSignal: 'SIGHUP' }],
      Secrets: [
        { Name: 'db', Provider: 'vault', Path: 'secret/data/db', Config: { engine: 'kv_v2' }, Env: null },
        { Name: 'hsm', Provider: 'company-hsm', Path: 'x/y', Env: { REGION: 'eu' } },
      ],
    };
    const spec = liftJob({ ...job, TaskGroups: [{ ...g0, Services: [svc], Tasks: [task] }] }).spec;
    const s = (groupOf(spec)['services'] as O[])[0]!;
    expect(s['identity']).to.deep.equal({ aud: ['consul.io'], ttl: '1h' });
    expect(s['connect']).to.deep.equal({
      sidecar_service: {
        tags: ['mesh'],
        proxy: {
          upstreams: [{ destination_name: 'db', local_bind_port: 5432 }],
          expose: { paths: [{ path: '/health', protocol: 'http', local_path_port: 8080, listener_port: 'hc' }] },
        },
      },
      sidecar_task: { resources: { cpu: 200, memory: 96 } },
    });
    const t = taskOf(spec);
    expect(t['identities']).to.deep.equal([
      { env: true, file: true },
      { name: 'vault_default', aud: ['vault.io'], ttl: '1h', change_mode: 'signal', change_signal: 'SIGHUP' },
    ]);
    expect(t['secret_blocks']).to.deep.equal({
      db: { provider: 'vault', path: 'secret/data/db', config: { engine: 'kv_v2' } },
      hsm: { provider: 'company-hsm', path: 'x/y', env: { REGION: 'eu' } },
    });
  });

  it('writes crons, parameterized, ui and disconnect typed', () => {
    const batch = {
      ...job,
      Type: 'batch',
      Periodic: { Enabled: true, Specs: ['0 8 * * *', '0 20 * * *'], SpecType: 'cron', ProhibitOverlap: true, TimeZone: 'UTC' },
      ParameterizedJob: { Payload: 'required', MetaRequired: ['bucket'], MetaOptional: null },
      UI: { Description: 'Nightly', Links: [{ Label: 'Runbook', URL: 'https://wiki.example.org/nightly' }] },
      TaskGroups: [{ ...job.TaskGroups[0]!, Disconnect: { LostAfter: 3600e9, Replace: true, Reconcile: 'keep_original', StopOnClientAfter: null } }],
    };
    const { spec } = liftJob(batch);
    expect(spec['periodic']).to.deep.equal({ crons: ['0 8 * * *', '0 20 * * *'] });
    expect(spec['parameterized']).to.deep.equal({ payload: 'required', meta_required: ['bucket'] });
    expect(spec['ui']).to.deep.equal({ description: 'Nightly', links: [{ label: 'Runbook', url: 'https://wiki.example.org/nightly' }] });
    expect(groupOf(spec)['disconnect']).to.deep.equal({ lost_after: '1h', reconcile: 'keep_original' });
  });

  it("carries a display name that differs from the job ID in nomad: (the spec's name is the ID)", () => {
    const text =
      'name: billing-api\ngroups:\n  - name: api\n    tasks:\n      - name: api\n        driver: exec\n        command: /bin/api\nnomad:\n  Name: Billing API\n';
    const set = loadSet([{ file: 'billing-api.yaml', text, kind: 'service' }]);
    expect(set.problems).to.deep.equal([]);
    const rendered = renderJob(standalone(set.services[0]!));
    expect([rendered.ID, rendered.Name]).to.deep.equal(['billing-api', 'Billing API']);
    expect(renderJobHcl(rendered)).to.match(/^job "billing-api" \{\n {2}name += "Billing API"/m);
  });

  it('reads image references', () => {
    expect(liftImage('registry.example.org:5000/team/app:1.2')).to.deep.equal({
      image: { repository: 'registry.example.org:5000/team/app', tag: '1.2' },
      latest: false,
    });
    expect(liftImage('registry.example.org:5000/team/app')).to.equal(undefined);
    expect(liftImage(`app@sha256:${'a'.repeat(64)}`)).to.deep.equal({ image: { repository: 'app', digest: `sha256:${'a'.repeat(64)}` }, latest: false });
  });
});

describe('import: environments', () => {
  const base = {
    name: 'web',
    datacenters: ['dc1'],
    groups: [{ name: 'web', count: 2, tasks: [{ name: 'web', image: { repository: 'shop/web', tag: '1.0' }, env: { A: '1' } }] }],
  };

  it('puts what an environment file can change under services.<name>', () => {
    const prod = {
      ...base,
      datacenters: ['dc2'],
      groups: [{ name: 'web', count: 6, tasks: [{ name: 'web', image: { repository: 'shop/web', tag: '1.1' }, env: { A: '2' }, resources: { memory: 512 } }] }],
    };
    expect(environmentOverride(base, prod)).to.deep.equal({
      override: { datacenters: ['dc2'], groups: { web: { count: 6, tasks: { web: { resources: { memory: 512 }, env: { A: '2' }, image: { tag: '1.1' } } } } } },
      problems: [],
    });
  });

  it('names what an environment file cannot change', () => {
    const other = { ...base, groups: [{ ...base.groups[0]!, tasks: [{ name: 'web', image: { repository: 'other/web', tag: '1.0' } }] }] };
    expect(environmentOverride(base, other).problems).to.deep.equal([
      'groups.web.tasks.web.env.A (an environment adds or replaces entries, it cannot remove one)',
      'groups[0].tasks[0].image.repository',
    ]);
  });
});

describe('import: writing', () => {
  it('refuses an existing file without force and two jobs on one path, naming each; writes nothing', async () => {
    const path = join(dir, 'services', 'web.yaml');
    mkdirSync(join(dir, 'services'), { recursive: true });
    writeFileSync(path, 'mine\n');
    const files = [
      { path, text: 'new\n', from: 'a.hcl' },
      { path: join(dir, 'services', 'api.yaml'), text: 'x\n', from: 'b.hcl' },
      { path: join(dir, 'services', 'api.yaml'), text: 'y\n', from: 'c.hcl' },
    ];
    let err: unknown;
    try {
      checkWrites(files, { force: false });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(InputError);
    expect((err as InputError).problems.map((p) => p.message)).to.deep.equal([
      'already exists; nothing was written (give --force to replace it with the spec of a.hcl)',
      'both b.hcl and c.hcl would be written here (the same job ID)',
    ]);
    checkWrites(files.slice(0, 2), { force: true });
    expect(await writeFiles(files.slice(0, 2))).to.deep.equal([path, join(dir, 'services', 'api.yaml')]);
    expect(readFileSync(path, 'utf8')).to.equal('new\n');
  });
});

describe('import: the CLI checks its input before contacting Nomad', function () {
  this.timeout(60_000);
  const env = () => ({ PATH: process.env['PATH'] ?? '', HOME: dir, NOMAD_ADDR: 'http://127.0.0.1:1' });
  async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const e = env();
    const session: Session = { env: e, stdout: (s) => void (out += s), stderr: (s) => void (err += s), redactor: redactorFromEnv(e) };
    return { code: await main(argv, session), out, err };
  }

  it('no file and no --from-cluster is exit 1', async () => {
    const r = await cli(['import']);
    expect(r.code).to.equal(1);
    expect(r.err).to.include('give job files, or --from-cluster with a job ID');
  });

  it('a missing file is exit 1 naming it; nothing written', async () => {
    const out = join(dir, 'cli-out');
    const r = await cli(['import', join(dir, 'nope.nomad.hcl'), '--out', out]);
    expect(r.code, r.err).to.equal(1);
    expect(r.err).to.include('nope.nomad.hcl');
    expect(existsSync(out)).to.equal(false);
  });

  it('a directory or a FIFO is exit 1 naming it, never read', async () => {
    const fifo = join(dir, 'job.fifo');
    execFileSync('mkfifo', [fifo]);
    const r = await cli(['import', dir, fifo]);
    expect(r.code, r.err).to.equal(1);
    expect(r.err).to.include(`${dir}: is a directory; give job files`);
    expect(r.err).to.include(`${fifo}: is not a regular file`);
  });

  it('a JSON file that is not a job is exit 1 with its position', async () => {
    const f = join(dir, 'job.json');
    writeFileSync(f, '{\n  "Job": {"ID": 1,}\n}\n');
    const r = await cli(['import', f]);
    expect(r.code, r.err).to.equal(1);
    expect(r.err).to.match(/job\.json:2:\d+ {2}\(document\) {2}not valid JSON/);
  });

  // Regression: JSON.parse keeps the last of two equal keys, so `"ID": "web", "ID": "evil"` imported a job named evil.
  it('a JSON key given twice in one object is exit 1 at its second place; nothing written', async () => {
    const f = join(dir, 'twice.json');
    const out = join(dir, 'twice-out');
    writeFileSync(f, '{"Job": {\n  "ID": "web",\n  "TaskGroups": [{"Name": "a"}, {"Name": "b"}],\n  "ID": "evil"\n}}\n');
    const r = await cli(['import', f, '--out', out]);
    expect(r.code, r.err).to.equal(1);
    expect(r.err).to.include(`${f}:4:3  "ID"  is given twice in one object`);
    expect(existsSync(out)).to.equal(false);
    // The same key in sibling objects, in arrays, or escaped differently in another object is not a repeat.
    expect(duplicateJsonKey('{"a": {"k": 1}, "b": {"k": 2}, "c": [{"k": 1}, {"k": 2}], "d\\"e": "a"}')).to.equal(undefined);
    expect(duplicateJsonKey('{"a": {"k": 1, "x": "k", "k": 2}}')).to.deep.equal({ key: 'k', offset: 25 });
    expect(duplicateJsonKey('{"q\\"": 1, "q\\u0022": 2}')?.key).to.equal('q"');
  });

  // Regression: a services/ folder that is a link under --out sent the written spec wherever it pointed.
  it('an --out whose services/ is a symbolic link is exit 1 naming it, before Nomad is asked; nothing written through it', async () => {
    const out = join(dir, 'linked-out');
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(out);
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, join(out, 'services'));
    writeFileSync(join(dir, 'web.nomad.hcl'), 'job "web" {\n}\n');
    const r = await cli(['import', join(dir, 'web.nomad.hcl'), '--out', out]);
    expect(r.code, r.err).to.equal(1);
    expect(r.err).to.include(`${join(out, 'services')}: is a symbolic link; import writes only into real folders`);
    expect(r.err).not.to.include('127.0.0.1:1');
    expect(readdirSync(elsewhere)).to.deep.equal([]);
    // The library refuses it too, and a target that is a link even with force.
    const files = [{ path: join(out, 'services', 'web.yaml'), text: 'x\n', from: 'web.nomad.hcl' }];
    expect(() => checkWrites(files, { force: true })).to.throw(InputError, 'is a symbolic link');
    rmSync(join(out, 'services'));
    mkdirSync(join(out, 'services'));
    symlinkSync(join(elsewhere, 'x.yaml'), join(out, 'services', 'web.yaml'));
    expect(() => checkWrites(files, { force: true })).to.throw(InputError, `${join(out, 'services', 'web.yaml')}: is a symbolic link`);
  });

  it('--var and --var-file are checked before Nomad is asked, each refusal naming the flag, never the value', async () => {
    const job = join(dir, 'vars.nomad.hcl');
    writeFileSync(job, 'variable "tag" {\n  type = string\n}\n\njob "web" {\n}\n');
    const cases: [string[], string][] = [
      [['--var', 'tag'], 'Error: --var "tag": expected name=value\n'],
      [['--var', '9tag=1'], 'Error: --var "9tag": is not a variable name'],
      [['--var', 'tag=a', '--var', 'tag=b'], 'Error: --var "tag": is given twice\n'],
      [['--var', 'tag=a\u0007hidden-value'], 'Error: --var "tag": its value holds a control character\n'],
      [['--var', 'tga=1.0'], 'Error: --var "tga": no job file declares this variable'],
      [['--var-file', join(dir, 'no-such.hcl')], 'no-such.hcl'],
    ];
    for (const [flags, message] of cases) {
      const r = await cli(['import', job, ...flags, '--out', join(dir, 'vars-out')]);
      expect(r.code, `${flags.join(' ')}: ${r.err}`).to.equal(1);
      expect(r.err, flags.join(' ')).to.include(message);
      expect(r.err, flags.join(' ')).not.to.include('127.0.0.1:1').and.not.to.include('hidden-value');
    }
    expect(existsSync(join(dir, 'vars-out'))).to.equal(false);
  });

  it('--var values become literal strings of a variables file: nothing in them is evaluated, and each line knows its flag or file', () => {
    expect(varFlags(['a=1', 'b=${x} %{ if y }"q"\\ \n\tz', 'c='])).to.equal('a = "1"\nb = "$${x} %%{ if y }\\"q\\"\\\\ \\n\\tz"\nc = ""\n');
    const v = joinVariables(
      [
        { file: 'one.hcl', text: 'tag = "1"\nregion = "eu"' },
        { file: 'two.hcl', text: 'dcs = ["a"]\n' },
      ],
      ['port=80', 'name=web'],
    );
    expect(v.text).to.equal('tag = "1"\nregion = "eu"\ndcs = ["a"]\nport = "80"\nname = "web"\n');
    expect([1, 2, 3, 4, 5].map((l) => v.origin(l))).to.deep.equal([
      { file: 'one.hcl', line: 1 },
      { file: 'one.hcl', line: 2 },
      { file: 'two.hcl', line: 1 },
      { file: '--var port', line: 1 },
      { file: '--var name', line: 1 },
    ]);
    expect(v.flagNames).to.deep.equal(['port', 'name']);
  });

  it('the same --env twice is exit 1', async () => {
    const r = await cli(['import', 'x.hcl', '--env', 'qa', '--env', 'qa']);
    expect(r.code).to.equal(1);
    expect(r.err).to.include('--env: `qa` is given twice');
  });
});

describe('import: reading job files', () => {
  // Regression: a Latin-1 job file was read as UTF-8 and imported with U+FFFD in its names (`w�b`), without a word.
  it('refuses bytes that are not UTF-8 at their place, before Nomad parses anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hashiship-import-read-'));
    try {
      const file = join(dir, 'job.nomad.hcl');
      writeFileSync(file, Buffer.from('job "w\xe9b" {\n}\n', 'latin1'));
      let problems: string[] = [];
      await readSources([file]).catch((e: unknown) => (problems = (e as InputError).problems.map((p) => `${p.at?.line}:${p.at?.col} ${p.message}`)));
      expect(problems).to.deep.equal(['1:7 byte 0xE9 is not valid UTF-8 (the file looks like Latin-1 or Windows-1252); save it as UTF-8']);
      writeFileSync(file, 'job "web" {\n}\n');
      expect((await readSources([file]))[0]!.text).to.equal('job "web" {\n}\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
