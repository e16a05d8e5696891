/**
 * What a newcomer meets importing the jobs `nomad job init` writes and public
 * jobs of the same kind (issue 12 §5), without a server: Nomad's refusals at
 * their places in the file, and shapes that went to `nomad:` or were refused
 * though the typed spec can say them — `network { mode = "host" }` written out,
 * a java jar fetched with headers, Docker's `host-gateway` in `extra_hosts`, a
 * task's `leader` and `logs.disabled` —
 * and a job as the servers store it (`GET /v1/job/:id`, what `--from-cluster`
 * reads without a submission), which spells a UI link's URL `Url` and holds the
 * tasks Nomad added for Connect.
 * The jobs are in the import corpus (test/fixtures/import-corpus), round-tripped
 * through the real Nomad by test/integration/import.test.ts.
 */
import { expect } from 'chai';
import { formatProblem } from '../../src/errors.js';
import { renderJob } from '../../src/nomad/render.js';
import { liftJob } from '../../src/service-spec/import/lift.js';
import { jsonToHcl, ParseFailure, parseProblems } from '../../src/service-spec/import/parse.js';
import { loadSet } from '../../src/service-spec/load.js';
import { standalone } from '../../src/service-spec/overlay.js';

type O = Record<string, unknown>;

function load(text: string): { problems: string[]; job?: O } {
  const name = /^name: (\S+)/.exec(text)![1]!;
  const set = loadSet([{ file: `${name}.yaml`, text, kind: 'service' }]);
  const problems = set.problems.map(formatProblem);
  return problems.length > 0 || set.services[0] === undefined ? { problems } : { problems, job: renderJob(standalone(set.services[0])) as unknown as O };
}

function firstTask(spec: O): O {
  return ((spec['groups'] as O[])[0]!['tasks'] as O[])[0]!;
}

describe("import for a newcomer: Nomad's refusal at its places in the file", () => {
  // As /v1/jobs/parse words a variable's failed validation and a second diagnostic (Nomad 1.11).
  const nomadSays =
    'Invalid value for default variable; The release is YYYY.M.N.\n\nThis was checked by the validation rule at input.hcl:16,3-13.\n' +
    'input.hcl:33,26-35: Unsupported attribute; This object does not have an attribute named "base_env".';

  it('gives each diagnostic its own problem at its line and column, names the file instead of input.hcl, one line each', () => {
    const problems = parseProblems({ file: 'jobs/workers.nomad.hcl', text: '' }, new ParseFailure(nomadSays, 14, 13));
    expect(problems.map(formatProblem)).to.deep.equal([
      'jobs/workers.nomad.hcl:14:13  job  Nomad cannot parse it: Invalid value for default variable; The release is YYYY.M.N. This was checked by the validation rule at jobs/workers.nomad.hcl:16:3.',
      'jobs/workers.nomad.hcl:33:26  job  Nomad cannot parse it: Unsupported attribute; This object does not have an attribute named "base_env".',
    ]);
  });

  it('keeps a JSON source at its document (the places are of the HCL written from it)', () => {
    const problems = parseProblems({ file: 'job.json', text: '{}' }, new ParseFailure(nomadSays, 14, 13));
    expect(problems.map((p) => p.at)).to.deep.equal([
      { file: 'job.json', line: 1, col: 1 },
      { file: 'job.json', line: 1, col: 1 },
    ]);
    expect(problems[0]!.message).to.include('validation rule at input.hcl:16,3-13.');
  });
});

describe('import for a newcomer: shapes the typed spec says', () => {
  const job = (group: O, task: O = {}): O => ({
    ID: 'db',
    Type: 'service',
    TaskGroups: [{ Name: 'db', Count: 1, Tasks: [{ Name: 'db', Driver: 'docker', Config: { image: 'mariadb:11.4.2' }, ...task }], ...group }],
  });

  it('writes `network_mode: host` for a network whose mode is written out (Nomad keeps it; an absent mode stays empty)', () => {
    const host = liftJob(job({ Networks: [{ Mode: 'host', ReservedPorts: [{ Label: 'mysql', Value: 3306 }] }] })).spec;
    expect((host['groups'] as O[])[0]!['network_mode']).to.equal('host');
    const none = liftJob(job({ Networks: [{ Mode: '', ReservedPorts: [{ Label: 'mysql', Value: 3306 }] }] })).spec;
    expect((none['groups'] as O[])[0]).to.not.have.property('network_mode');
    const r = load(
      'name: db\ngroups:\n  - name: db\n    network_mode: host\n    ports:\n      mysql: {static: 3306}\n    tasks:\n      - name: db\n        image: {repository: mariadb, tag: 11.4.2}\n',
    );
    expect(r.problems).to.deep.equal([]);
    expect(((r.job!['TaskGroups'] as O[])[0]!['Networks'] as O[])[0]!['Mode']).to.equal('host');
  });

  it("types a java jar fetched with HTTP headers (jar.headers) and renders them on the jar's artifact", () => {
    const spec = liftJob({
      ID: 'ledger',
      Type: 'service',
      TaskGroups: [
        {
          Name: 'api',
          Count: 1,
          Tasks: [
            {
              Name: 'api',
              Driver: 'java',
              Config: { jar_path: 'local/ledger-api-5.2.0.jar' },
              Artifacts: [
                {
                  GetterSource: 'https://artifacts.example.org/ledger/ledger-api-5.2.0.jar',
                  RelativeDest: 'local/',
                  GetterMode: 'any',
                  GetterOptions: { checksum: 'md5:6f1ed002ab5595859014ebf0951522d9' },
                  GetterHeaders: { 'X-Artifact-Channel': 'stable' },
                },
              ],
            },
          ],
        },
      ],
    }).spec;
    const t = firstTask(spec);
    expect(t['jar']).to.deep.equal({
      source: 'https://artifacts.example.org/ledger/ledger-api-5.2.0.jar',
      checksum: 'md5:6f1ed002ab5595859014ebf0951522d9',
      headers: { 'X-Artifact-Channel': 'stable' },
    });
    expect(t).to.not.have.property('artifacts');
    const r = load(
      'name: ledger\ngroups:\n  - name: api\n    tasks:\n      - name: api\n        driver: java\n        jar:\n          source: https://artifacts.example.org/ledger/ledger-api-5.2.0.jar\n          headers: {X-Artifact-Channel: stable}\n',
    );
    expect(r.problems).to.deep.equal([]);
    const task = ((r.job!['TaskGroups'] as O[])[0]!['Tasks'] as O[])[0]!;
    expect((task['Artifacts'] as O[])[0]!['GetterHeaders']).to.deep.equal({ 'X-Artifact-Channel': 'stable' });
  });

  it("types a task's `leader` and `logs { disabled = true }` (both went to nomad:), and renders them", () => {
    const spec = liftJob(
      job({}, { Leader: true, LogConfig: { MaxFiles: 10, MaxFileSizeMB: 10, Disabled: true }, Resources: { CPU: 100, MemoryMB: 300 } }),
    ).spec;
    const t = firstTask(spec);
    expect(t['leader']).to.equal(true);
    expect(t['logs']).to.deep.equal({ disabled: true });
    const rotated = firstTask(liftJob(job({}, { LogConfig: { MaxFiles: 3, MaxFileSizeMB: 10, Disabled: false } })).spec);
    expect(rotated['logs']).to.deep.equal({ max_files: 3, max_file_size: 10 });
    expect(rotated).to.not.have.property('leader');
    const r = load(
      'name: db\ngroups:\n  - name: db\n    tasks:\n      - name: db\n        image: {repository: mariadb, tag: 11.4.2}\n        leader: true\n        logs: {disabled: true}\n',
    );
    expect(r.problems).to.deep.equal([]);
    const task = ((r.job!['TaskGroups'] as O[])[0]!['Tasks'] as O[])[0]!;
    expect(task['Leader']).to.equal(true);
    expect(task['LogConfig']).to.deep.equal({ MaxFiles: 10, MaxFileSizeMB: 10, Disabled: true });
  });

  it("accepts Docker's host-gateway and a Nomad interpolation as the address of an extra_hosts entry, refuses other words", () => {
    const spec = (entry: string) =>
      `name: pipeline\ngroups:\n  - name: init\n    tasks:\n      - name: init\n        image: {repository: ghcr.io/example/pipeline, tag: 1.4.0}\n        docker:\n          extra_hosts: ["${entry}"]\n`;
    expect(load(spec('host.docker.internal:host-gateway')).problems).to.deep.equal([]);
    expect(load(spec('consul.internal:${attr.unique.network.ip-address}')).problems).to.deep.equal([]);
    expect(load(spec('db.internal:10.0.0.5')).problems).to.deep.equal([]);
    const bad = load(spec('db.internal:gateway')).problems;
    expect(bad).to.have.length(1);
    expect(bad[0]).to.include('host.docker.internal:host-gateway');
  });
});

describe("import for a newcomer: the job-level migrate block of `nomad job init`'s example, typed", () => {
  // As Nomad parses it: the job's block as written (its defaults are not filled in), the group's inheriting it.
  const written = { MaxParallel: 1, HealthCheck: 'checks', MinHealthyTime: 10e9, HealthyDeadline: 300e9 };
  const job = (groupMigrate: O): O => ({
    ID: 'example',
    Type: 'service',
    Migrate: written,
    TaskGroups: [{ Name: 'cache', Count: 1, Migrate: groupMigrate, Tasks: [{ Name: 'redis', Driver: 'docker', Config: { image: 'redis:7' } }] }],
  });

  it("writes every field the job's block gives (Nomad keeps them as written), and in groups only what differs from it", () => {
    const same = liftJob(job(written)).spec;
    expect(same['migrate']).to.deep.equal({ max_parallel: 1, health_check: 'checks', min_healthy_time: '10s', healthy_deadline: '5m' });
    expect((same['groups'] as O[])[0]).to.not.have.property('migrate');
    const own = liftJob(job({ ...written, MaxParallel: 3 })).spec;
    expect((own['groups'] as O[])[0]!['migrate']).to.deep.equal({ max_parallel: 3 });
    const empty = liftJob({ ...job({ ...written }), Migrate: {} }).spec;
    expect(empty['migrate']).to.deep.equal({});
  });

  it("renders it as the job's Migrate (an empty one too), and refuses it outside service jobs", () => {
    const text = (type: string, migrate: string) =>
      `name: example\ntype: ${type}\nmigrate: ${migrate}\ngroups:\n  - name: cache\n    tasks:\n      - name: redis\n        image: {repository: redis, tag: "7"}\n`;
    expect(load(text('service', '{max_parallel: 2, healthy_deadline: 5m}')).job!['Migrate']).to.deep.equal({ MaxParallel: 2, HealthyDeadline: 300e9 });
    expect(load(text('service', '{}')).job!['Migrate']).to.deep.equal({});
    expect(load(text('batch', '{max_parallel: 2}')).problems).to.deep.equal(['example.yaml:3:10  migrate  `migrate` applies to service jobs, not batch']);
  });
});

describe('import for a newcomer: a job as the servers store it (GET /v1/job/:id)', () => {
  // Trimmed from what Nomad 1.11.3 stores for `nomad job init -short -connect`.
  const stored = {
    ID: 'countdash',
    Name: 'countdash',
    Type: 'service',
    Status: 'pending',
    CreateIndex: 17,
    UI: { Description: 'Sample', Links: [{ Label: 'Learn more about Nomad', Url: 'https://developer.hashicorp.com/nomad' }] },
    TaskGroups: [
      {
        Name: 'api',
        Count: 1,
        Services: [{ Name: 'count-api', PortLabel: '9001', Connect: { SidecarService: { Port: 'connect-proxy-count-api' } } }],
        Tasks: [
          { Name: 'web', Driver: 'docker', Config: { image: 'hashicorpdev/counter-api:v3' } },
          {
            Name: 'connect-proxy-count-api',
            Driver: 'docker',
            Kind: 'connect-proxy:count-api',
            Config: { image: '${meta.connect.sidecar_image}', args: ['-c', '${NOMAD_SECRETS_DIR}/envoy_bootstrap.json'] },
          },
          { Name: 'native', Driver: 'docker', Kind: 'connect-native:count-native', Config: { image: 'example/native:1.0.0' } },
        ],
      },
    ],
  };
  const hcl = jsonToHcl({ file: 'countdash.json', text: JSON.stringify({ Job: stored }) });

  it("keeps a UI link's URL, spelled Url there (the API's URL): it was dropped, and the spec refused the link without it", () => {
    expect(hcl).to.match(/link \{\s+label\s+= "Learn more about Nomad"\s+url\s+= "https:\/\/developer.hashicorp.com\/nomad"/);
  });

  it('leaves out the tasks Nomad adds for a Connect sidecar or gateway (it adds them again on registration), keeps the rest', () => {
    expect(hcl).to.not.include('task "connect-proxy-count-api"');
    expect(hcl).to.not.include('sidecar_image');
    expect(hcl).to.include('task "web"');
    expect(hcl).to.include('task "native"');
  });
});
