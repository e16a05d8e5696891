/**
 * Rendering: golden files, the committed jobs/generated output, determinism,
 * ownership meta, Fabio tags, digest pinning, secrets by reference, and a fast
 * parse of every output with hcl2-parser. Nomad itself parses the same outputs in
 * test/integration/render.test.ts.
 */
import { execFile } from 'node:child_process';
import { existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { formatProblem, InputError } from '../../src/errors.js';
import { parseHcl } from '../../src/hcl/parser.js';
import { OwnershipMeta, type Job } from '../../src/nomad/job.js';
import { renderAll, renderJob } from '../../src/nomad/render.js';
import { renderJobHcl } from '../../src/nomad/render-hcl.js';
import { ownedJobFile, writeJobFiles } from '../../src/nomad/render-out.js';
import { readSpecFiles } from '../../src/service-spec/files.js';
import { loadSet, resolveEnvironment, type SpecFile } from '../../src/service-spec/load.js';
import { standalone } from '../../src/service-spec/overlay.js';
import { renderGoldenCase } from '../helpers/spec-golden.js';

const GOLDEN = 'test/fixtures/golden';

async function examples(env: string) {
  const set = loadSet(await readSpecFiles(['jobs/services', 'jobs/environments']));
  return renderAll(resolveEnvironment(set, env));
}

function one(files: SpecFile[], env: string, digests?: Record<string, string>): Job {
  const set = loadSet(files);
  expect(set.problems).to.deep.equal([]);
  return renderJob(resolveEnvironment(set, env)[0]!, digests === undefined ? {} : { digests });
}

const WEB = `name: web
namespace: shop
groups:
  - name: web
    count: 3
    ports:
      http: {to: 8080}
    update: {canary: 1}
    services:
      - port: http
        tags: [shop]
        checks:
          - {type: http, path: /health}
        routes:
          - {host: www, path: /}
          - {host: api.example.net, path: /v1/, strip: /v1, proto: https}
    tasks:
      - name: web
        image: {repository: shop/web, tag: "1.0"}
        secrets:
          - {env: DB_PASSWORD, path: secret/data/shop/db, key: password}
          - {file: secrets/cert.pem, path: pki/issue/shop, key: certificate}
        kv:
          - {env: FLAGS, key: shop/flags}
`;
const QA = `name: qa
registry: registry.qa:5000
domain: qa.example.com
vault_role: shop-qa
`;
const files = (spec = WEB, env = QA): SpecFile[] => [
  { file: 'web.yaml', text: spec, kind: 'service' },
  { file: 'qa.yaml', text: env, kind: 'environment' },
];

/**
 * hcl2-parser gives a map attribute (`labels = { … }`) as an object; Nomad's parser
 * gives it as a one-item list inside driver config, which is what the model holds.
 */
function asNomadParses(v: unknown, inMap = false): unknown {
  if (Array.isArray(v)) return v.map((x) => asNomadParses(x));
  if (typeof v !== 'object' || v === null) return v;
  const out = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, asNomadParses(x, true)]));
  return inMap ? [out] : out;
}

describe('render: golden files', () => {
  for (const name of readdirSync(GOLDEN).sort()) {
    // Regression guard for every escaping and layout rule: the bytes are reviewed once, then frozen.
    it(`${name} renders exactly ${name}.nomad.hcl and ${name}.json (npm run golden rewrites them)`, async () => {
      const out = await renderGoldenCase(join(GOLDEN, name));
      expect(out.hcl).to.equal(readFileSync(join(GOLDEN, name, `${name}.nomad.hcl`), 'utf8'));
      expect(out.json).to.equal(readFileSync(join(GOLDEN, name, `${name}.json`), 'utf8'));
    });
  }
});

describe('render: examples', () => {
  for (const env of ['qa', 'production']) {
    it(`jobs/generated/${env} is up to date (npm run golden rewrites it)`, async () => {
      const jobs = await examples(env);
      const dir = join('jobs/generated', env);
      expect(readdirSync(dir).sort()).to.deep.equal(jobs.map((j) => `${j.name}.nomad.hcl`).sort());
      for (const j of jobs) expect(readFileSync(join(dir, `${j.name}.nomad.hcl`), 'utf8'), j.name).to.equal(j.hcl);
    });
  }

  it('is deterministic: the same input gives the same bytes', async () => {
    const a = await examples('production');
    const b = await examples('production');
    expect(a.map((j) => j.hcl)).to.deep.equal(b.map((j) => j.hcl));
    expect(JSON.stringify(a.map((j) => j.job))).to.equal(JSON.stringify(b.map((j) => j.job)));
  });

  it('parses with hcl2-parser, and templates, env and meta read back as the model holds them', async () => {
    for (const env of ['qa', 'production']) {
      for (const j of await examples(env)) {
        const doc = parseHcl(j.hcl) as { job: Record<string, [Record<string, unknown>]> };
        const body = doc.job[j.job.ID]![0];
        expect(body['meta'], j.name).to.deep.equal([j.job.Meta]);
        const groups = body['group'] as Record<string, [Record<string, unknown>]>;
        for (const g of j.job.TaskGroups) {
          const tasks = groups[g.Name]![0]['task'] as Record<string, [Record<string, unknown>]>;
          for (const t of g.Tasks) {
            const tb = tasks[t.Name]![0];
            expect(asNomadParses(tb['config']), `${j.name}/${t.Name}`).to.deep.equal([t.Config]);
            if (t.Env !== undefined) expect(tb['env']).to.deep.equal([t.Env]);
            const tpls = (tb['template'] as Record<string, unknown>[] | undefined) ?? [];
            expect(tpls.map((x) => x['data'])).to.deep.equal((t.Templates ?? []).map((x) => x.EmbeddedTmpl));
          }
        }
      }
    }
  });
});

describe('render: the job model', () => {
  it('stamps ownership meta: tool, environment and the hash of the job before stamping', () => {
    const job = one(files(), 'qa');
    expect(job.Meta[OwnershipMeta.tool]).to.equal('hashiship');
    expect(job.Meta[OwnershipMeta.environment]).to.equal('qa');
    expect(job.Meta[OwnershipMeta.specHash]).to.match(/^[0-9a-f]{64}$/);
    const same = one(files(), 'qa');
    const changed = one(files(WEB.replace('count: 3', 'count: 4')), 'qa');
    expect(same.Meta[OwnershipMeta.specHash]).to.equal(job.Meta[OwnershipMeta.specHash]);
    expect(changed.Meta[OwnershipMeta.specHash]).to.not.equal(job.Meta[OwnershipMeta.specHash]);
  });

  it('turns routes into urlprefix tags on the service, joined with the domain; canaries keep them plus `canary`', () => {
    const svc = one(files(), 'qa').TaskGroups[0]!.Services![0]!;
    expect(svc.Tags).to.deep.equal(['shop', 'urlprefix-www.qa.example.com/', 'urlprefix-api.example.net/v1/ strip=/v1 proto=https']);
    expect(svc.CanaryTags).to.deep.equal([...svc.Tags!, 'canary']);
    expect(svc.Checks![0]).to.deep.include({ Path: '/health', Interval: 10e9, Timeout: 2e9 });
    // Nomad's default: a check without a port has none of its own and uses its service's port.
    expect(svc.Checks![0]).to.not.have.property('PortLabel');
    // Issue 12: an unnamed check keeps Nomad's default name (`service: "web" check`, set when Nomad canonicalizes).
    expect(svc.Checks![0]).to.not.have.property('Name');
  });

  it('gives groups with services a shutdown delay so Fabio stops routing first', () => {
    expect(one(files(), 'qa').TaskGroups[0]!.ShutdownDelay).to.equal(5e9);
  });

  it('prefixes the environment registry and pins digests passed by the deploy step', () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    expect(one(files(), 'qa').TaskGroups[0]!.Tasks[0]!.Config['image']).to.equal('registry.qa:5000/shop/web:1.0');
    expect(one(files(), 'qa', { 'shop/web': digest }).TaskGroups[0]!.Tasks[0]!.Config['image']).to.equal(`registry.qa:5000/shop/web@${digest}`);
  });

  it('references secrets by Vault and Consul path in templates, with a vault block, never by value', () => {
    const task = one(files(), 'qa').TaskGroups[0]!.Tasks[0]!;
    expect(task.Vault).to.deep.equal({ Role: 'shop-qa', Env: false, DisableFile: false, ChangeMode: 'restart' });
    expect(task.Templates!.map((t) => [t.DestPath, t.Envvars, t.EmbeddedTmpl])).to.deep.equal([
      [
        'secrets/hashiship.env',
        true,
        '{{ with secret "secret/data/shop/db" }}DB_PASSWORD={{ index .Data.data "password" | toJSON }}{{ end }}\nFLAGS={{ key "shop/flags" | toJSON }}\n',
      ],
      ['secrets/cert.pem', false, '{{ with secret "pki/issue/shop" }}{{ index .Data "certificate" }}{{ end }}'],
    ]);
    expect(task.Env).to.equal(undefined);
  });

  it('sends the parameters of a PKI issue path with the request, sorted, the same for the certificate and its key', () => {
    const pki = WEB.replace(
      '          - {file: secrets/cert.pem, path: pki/issue/shop, key: certificate}',
      [
        '          - {file: secrets/cert.pem, path: pki/issue/shop, key: certificate, params: {ttl: 72h, common_name: shop.service.consul}}',
        '          - {file: secrets/key.pem, path: pki/issue/shop, key: private_key, params: {common_name: shop.service.consul, ttl: 72h}}',
      ].join('\n'),
    );
    const job = one(files(pki), 'qa');
    const tpl = job.TaskGroups[0]!.Tasks[0]!.Templates!.filter((t) => t.DestPath.endsWith('.pem')).map((t) => t.EmbeddedTmpl);
    const call = 'secret "pki/issue/shop" "common_name=shop.service.consul" "ttl=72h"';
    expect(tpl).to.deep.equal([`{{ with ${call} }}{{ index .Data "certificate" }}{{ end }}`, `{{ with ${call} }}{{ index .Data "private_key" }}{{ end }}`]);
    expect(renderJobHcl(job)).to.include('{{ with secret \\"pki/issue/shop\\" \\"common_name=shop.service.consul\\" \\"ttl=72h\\" }}');
  });

  it('writes the HCL from the model alone, so the two cannot disagree', () => {
    const job = one(files(), 'qa');
    expect(renderJobHcl(job)).to.equal(renderAll(resolveEnvironment(loadSet(files()), 'qa'))[0]!.hcl);
  });
});

describe('hashiship render', function () {
  this.timeout(60_000);
  const cli = (...args: string[]) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args]).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  it('writes one file per job, HCL or API JSON, identical to the library output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hashiship-render-'));
    try {
      const hcl = await cli('render', '--env', 'qa', '--out', join(dir, 'hcl'), 'web', 'redis');
      expect(hcl.code).to.equal(0);
      expect(readdirSync(join(dir, 'hcl')).sort()).to.deep.equal(['redis.nomad.hcl', 'web.nomad.hcl']);
      expect(readFileSync(join(dir, 'hcl', 'web.nomad.hcl'), 'utf8')).to.equal(readFileSync('jobs/generated/qa/web.nomad.hcl', 'utf8'));
      const json = await cli('render', '--env', 'qa', '--format', 'json', '--out', join(dir, 'json'), 'web');
      expect(json.code).to.equal(0);
      const doc = JSON.parse(readFileSync(join(dir, 'json', 'web.json'), 'utf8')) as { Job: Job };
      const [web] = (await examples('qa')).filter((j) => j.name === 'web');
      expect(doc.Job).to.deep.equal(web!.job);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a whole environment into --out removes the files of jobs no longer rendered, and only files hashiship wrote', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hashiship-render-'));
    try {
      const web = readFileSync('jobs/generated/qa/web.nomad.hcl', 'utf8');
      writeFileSync(join(dir, 'retired.nomad.hcl'), web.replace('job "web"', 'job "retired"'));
      writeFileSync(join(dir, 'handmade.nomad.hcl'), 'job "handmade" {\n  type = "batch"\n}\n');
      writeFileSync(join(dir, 'retired.json'), '{"Job": {"Meta": {"hashiship_tool": "hashiship"}}}\n');
      const some = await cli('render', '--env', 'qa', '--out', dir, 'web');
      expect(some.code).to.equal(0);
      expect(readdirSync(dir)).to.include('retired.nomad.hcl');
      const all = await cli('render', '--env', 'qa', '--out', dir);
      expect(all.code).to.equal(0);
      expect(all.stdout).to.contain(`removed ${join(dir, 'retired.nomad.hcl')} (no longer rendered)\n`);
      const left = readdirSync(dir);
      expect(left).not.to.include('retired.nomad.hcl');
      // Hand-written files and files of the other format stay.
      expect(left).to.include.members(['handmade.nomad.hcl', 'retired.json', 'web.nomad.hcl']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses unknown services and formats with exit 1, writing nothing', async () => {
    const r = await cli('render', '--env', 'qa', 'wbe');
    expect(r).to.deep.include({ code: 1, stdout: '', stderr: 'Error: wbe: no service named `wbe`; did you mean `web`?\n' });
    const x = await cli('render', '--env', 'qa', 'postgres');
    expect(x).to.deep.include({ code: 1, stdout: '' });
    expect(x.stderr).to.equal(
      'Error: postgres: `postgres` is an external service (kind: external): it has no Nomad job; `hashiship register --env qa` registers it in Consul\n',
    );
    const f = await cli('render', '--env', 'qa', '--format', 'yaml');
    expect(f).to.deep.include({ code: 1, stdout: '', stderr: 'Error: --format: `yaml` is not hcl or json\n' });
  });
});

describe('render: what the spec meant, and valid Nomad accepted (issue 12)', () => {
  const job = (text: string, env = 'name: qa\n', file = 'web.yaml') => {
    const set = loadSet([
      { file, text, kind: 'service' },
      { file: 'qa.yaml', text: env, kind: 'environment' },
    ]);
    return { problems: set.problems.map(formatProblem), job: set.problems.length === 0 ? renderJob(resolveEnvironment(set, 'qa')[0]!) : undefined };
  };
  const JAVA = (jar: string) => `name: web
groups:
  - name: web
    tasks:
      - name: web
        driver: java
        jar: ${jar}
`;

  it('refuses a java jar whose source is a directory or an archive (it rendered jar_path = "local/"), unless jar.path says where the jar is', () => {
    // Regression: `https://…/dist/` rendered jar_path = "local/" and the driver got a directory.
    expect(job(JAVA('{source: "https://artifacts.example.com/web/dist/"}')).problems).to.deep.equal([
      "web.yaml:7:23  groups[0].tasks[0].jar.source  `https://artifacts.example.com/web/dist/` names a directory, a repository or an archive, so the jar's file is unknown; set `jar.path` to the jar in the task directory, e.g. local/app.jar",
    ]);
    expect(job(JAVA('{source: "https://artifacts.example.com/web/web-1.2.tar.gz"}')).problems).to.have.length(1);
    expect(job(JAVA('{source: "git::https://git.example.com/web.git"}')).problems).to.have.length(1);
    const config = (jar: string) => job(JAVA(jar)).job!.TaskGroups[0]!.Tasks[0]!.Config;
    expect(config('{source: "https://artifacts.example.com/web/dist/", path: local/web.jar}')['jar_path']).to.equal('local/web.jar');
    expect(config('{source: "https://artifacts.example.com/web/web-1.2.tar.gz", path: local/web-1.2/web.jar}')['jar_path']).to.equal('local/web-1.2/web.jar');
    expect(config('{source: "https://artifacts.example.com/web/web-1.2.jar?archive=false"}')['jar_path']).to.equal('local/web-1.2.jar');
    expect(config('{source: "https://artifacts.example.com/web/web-1.2.jar"}')['jar_path']).to.equal('local/web-1.2.jar');
  });

  const SIDECAR = (exporterPorts: string, webPorts = '') => `name: web
groups:
  - name: web
    ports:
      http: {to: 8080}
      metrics: {to: 9100}
    tasks:
      - name: web
        image: {repository: shop/web, tag: "1.0"}${webPorts}
      - name: exporter
        lifecycle: {hook: poststart, sidecar: true}
        image: {repository: shop/exporter, tag: "1.0"}
        ports: ${exporterPorts}
`;

  it("publishes a sidecar's port only in the sidecar: the group's only main docker task publishes the other ports", () => {
    // Regression: the main task published every group port, so two containers bound the metrics port.
    const tasks = job(SIDECAR('[metrics]')).job!.TaskGroups[0]!.Tasks;
    expect(tasks.map((t) => [t.Name, t.Config['ports']])).to.deep.equal([
      ['web', ['http']],
      ['exporter', ['metrics']],
    ]);
  });

  it('refuses a port published by two tasks', () => {
    expect(job(SIDECAR('[metrics]', '\n        ports: [http, metrics]')).problems).to.deep.equal([
      'web.yaml:14:17  groups[0].tasks[1].ports[0]  port `metrics` is already published by task `web`; two containers cannot bind one host port',
    ]);
  });

  const CANARY = (service: string) => `name: web
groups:
  - name: web
    count: 2
    update: {canary: 1}
    ports:
      http: {}
    services:
      - port: http
        tags: [traefik.enable=true, traefik.http.routers.web.rule=Host(\`web.example.com\`)]
${service}
    tasks:
      - name: web
        image: {repository: shop/web, tag: "1.0"}
`;

  it('gives canaries the canary_tags of the spec (for Traefik: not the production router), the routes added', () => {
    // Regression: canaries always got the normal tags plus `canary`, so Traefik sent production traffic to them.
    const svc = job(CANARY('        canary_tags: [traefik.enable=false, canary]')).job!.TaskGroups[0]!.Services![0]!;
    expect(svc.CanaryTags).to.deep.equal(['traefik.enable=false', 'canary']);
    const routed = job(CANARY('        canary_tags: [canary]\n        routes: [{host: web.example.com}]')).job!.TaskGroups[0]!.Services![0]!;
    expect(routed.CanaryTags).to.deep.equal(['canary', 'urlprefix-web.example.com/']);
    // The documented Fabio default stays: tags, routes and `canary`.
    const fabio = job(CANARY('        routes: [{host: web.example.com}]')).job!.TaskGroups[0]!.Services![0]!;
    expect(fabio.CanaryTags).to.deep.equal([...fabio.Tags!, 'canary']);
    expect(job(CANARY('        canary_tags: [v2]\n        routes: [{host: web.example.com}]')).problems).to.deep.equal([
      'web.yaml:11:22  groups[0].services[0].canary_tags  a service with routes needs `canary` among its canary_tags: promotions steer Fabio weights to the instances tagged canary',
    ]);
  });

  const BRIDGE = `name: web
groups:
  - name: web
    network_mode: bridge
    ports:
      http: {to: -1}
    services:
      - name: \${JOB}-\${TASKGROUP}
        port: 8080
        address_mode: alloc
        checks:
          - {type: tcp, port: http}
    tasks:
      - name: web
        image: {repository: shop/web, tag: "1.0"}
        templates:
          - {destination: "\${NOMAD_SECRETS_DIR}/app.conf", data: "x"}
        artifacts:
          - {source: "https://example.com/a.tgz", destination: local}
          - {source: "https://example.com/b.tgz", destination: local/}
`;

  it('accepts valid Nomad it refused: numeric service ports, to = -1, ${NOMAD_SECRETS_DIR}/ and local destinations, ${JOB}-style service names', () => {
    const r = job(BRIDGE);
    expect(r.problems).to.deep.equal([]);
    const g = r.job!.TaskGroups[0]!;
    expect(g.Networks![0]!.DynamicPorts).to.deep.equal([{ Label: 'http', To: -1 }]);
    expect(g.Services![0]).to.deep.include({ Name: '${JOB}-${TASKGROUP}', PortLabel: '8080', AddressMode: 'alloc' });
    expect(g.Services![0]!.Checks![0]!.Name).to.equal(undefined);
    expect(g.Tasks[0]!.Templates![0]!.DestPath).to.equal('${NOMAD_SECRETS_DIR}/app.conf');
    expect(g.Tasks[0]!.Artifacts!.map((a) => a.RelativeDest)).to.deep.equal(['local', 'local/']);
    const hcl = renderJobHcl(r.job!);
    expect(hcl).to.include('to = -1').and.include('name         = "${JOB}-${TASKGROUP}"').and.include('destination          = "${NOMAD_SECRETS_DIR}/app.conf"');
    // In host mode Nomad registers the number with the Consul agent's address: valid too.
    expect(job(BRIDGE.replace('        address_mode: alloc\n', '')).problems).to.deep.equal([]);
    expect(job(BRIDGE.replace('port: 8080', 'port: 80800')).problems).to.deep.equal(['web.yaml:9:15  groups[0].services[0].port  port 80800 is above 65535']);
    expect(job(BRIDGE.replace('{to: -1}', '{to: 0}')).problems).to.deep.equal([
      "web.yaml:6:18  groups[0].ports.http.to  `to: 0` maps nothing; omit `to`, or write -1 for the host port's own number",
    ]);
  });

  it('accepts a dotted job ID when its services are named, and says so when one is not', () => {
    const DOTTED = `name: shop.web
groups:
  - name: web
    ports:
      http: {}
    services:
      - {name: shop-web, port: http}
    tasks:
      - name: web
        image: {repository: shop/web, tag: "1.0"}
`;
    const r = job(DOTTED, 'name: qa\nservices:\n  shop.web:\n    priority: 60\n', 'shop.web.yaml');
    expect(r.problems).to.deep.equal([]);
    expect([r.job!.ID, r.job!.Priority, r.job!.TaskGroups[0]!.Services![0]!.Name]).to.deep.equal(['shop.web', 60, 'shop-web']);
    expect(job(DOTTED.replace('{name: shop-web, port: http}', '{port: http}'), 'name: qa\n', 'shop.web.yaml').problems).to.deep.equal([
      'shop.web.yaml:7:9  groups[0].services[0]  the job ID `shop.web` is not a DNS-safe Consul service name; give this service a `name`',
    ]);
  });

  it('keeps the deliberate policies (latest, secret-looking values) with an opt-out that carries its reason', () => {
    const T = (extra: string) => `name: web
groups:
  - name: web
    tasks:
      - name: web
        image: {repository: shop/web, tag: latest}
        env: {DEMO_TOKEN: not-a-secret}
${extra}`;
    expect(job(T('')).problems).to.deep.equal([
      'web.yaml:6:44  groups[0].tasks[0].image.tag  the tag `latest` is not reproducible; name a version or pin a digest',
      'web.yaml:7:27  groups[0].tasks[0].env.DEMO_TOKEN  `DEMO_TOKEN` looks like a secret; read it from Vault with `secrets` instead of writing the value here',
    ]);
    const allowed = job(T('        allow: {latest: "a throw-away demo image", env: {DEMO_TOKEN: "the public demo token"}}\n'));
    expect(allowed.problems).to.deep.equal([]);
    expect(allowed.job!.TaskGroups[0]!.Tasks[0]!.Config['image']).to.equal('shop/web:latest');
    expect(job(T('        allow: {latest: ""}\n')).problems).to.include('web.yaml:8:25  groups[0].tasks[0].allow.latest  `` is not valid: write a reason');
  });
});

describe('render: the nomad: escape hatch (issue 12)', () => {
  const SPEC = (task: string, group = '', top = '') => `name: web
groups:
  - name: web
    ports:
      http: {}
    services:
      - {port: http}
    tasks:
      - name: web
        image: {repository: shop/web, tag: "1.0"}
${task}${group}${top}`;
  const render = (text: string) => {
    const set = loadSet([{ file: 'web.yaml', text, kind: 'service' }]);
    return { problems: set.problems.map(formatProblem), job: set.problems.length === 0 ? renderJob(standalone(set.services[0]!)) : undefined };
  };

  it('deep-merges raw API fields after rendering at job, group and task level: maps merge, lists replace, null removes', () => {
    const { problems, job } = render(
      SPEC(
        '        nomad:\n          Config: {cap_drop: [ALL], labels: {team: shop}}\n          Resources: {Cores: 2, CPU: null}\n          KillTimeout: 45s\n',
        '    nomad:\n      ShutdownDelay: null\n      Disconnect: {LostAfter: 1h}\n',
        'nomad:\n  Priority: 70\n  UI: {Description: Web shop}\n',
      ),
    );
    expect(problems).to.deep.equal([]);
    const t = job!.TaskGroups[0]!.Tasks[0]! as unknown as Record<string, unknown>;
    // A map value in driver config is a one-item list, as Nomad's parser gives `labels = { … }` back.
    expect(t['Config']).to.deep.equal({ image: 'shop/web:1.0', ports: ['http'], cap_drop: ['ALL'], labels: [{ team: 'shop' }] });
    expect(t['Resources']).to.deep.equal({ MemoryMB: 128, Cores: 2 });
    expect(t['KillTimeout']).to.equal(45e9);
    const g = job!.TaskGroups[0]! as unknown as Record<string, unknown>;
    expect(g['ShutdownDelay']).to.equal(undefined);
    expect(g['Disconnect']).to.deep.equal({ LostAfter: 3600e9 });
    expect(job!.Priority).to.equal(70);
    // The ownership hash covers the escape hatch.
    expect(job!.Meta[OwnershipMeta.specHash]).to.not.equal(render(SPEC('')).job!.Meta[OwnershipMeta.specHash]);
  });

  it("writes the merged fields into the HCL too, named as Nomad's HCL names them", () => {
    const { job } = render(
      SPEC(
        '        nomad:\n          Config: {cap_drop: [ALL], labels: {team: shop, com.example/tier: web}, logging: [{type: json-file, config: [{max-size: 10m}]}]}\n          Resources: {Cores: 2}\n          KillTimeout: 45s\n',
        '    nomad:\n      Disconnect: {LostAfter: 1h, Reconcile: best_score}\n',
        'nomad:\n  UI:\n    Description: Web shop\n    Links: [{Label: Runbook, URL: "https://runbooks.example.com/web"}]\n',
      ),
    );
    const hcl = renderJobHcl(job!);
    expect(hcl).to.include(
      [
        '      config {',
        '        image    = "shop/web:1.0"',
        '        ports    = ["http"]',
        '        cap_drop = ["ALL"]',
        '        labels = {',
        '          team               = "shop"',
        '          "com.example/tier" = "web"',
        '        }',
        '',
        '        logging {',
        '          type = "json-file"',
        '',
        '          config {',
        '            max-size = "10m"',
        '          }',
        '        }',
        '      }',
      ].join('\n'),
    );
    expect(hcl).to.include('      kill_timeout = "45s"');
    expect(hcl).to.include('        cores  = 2');
    expect(hcl).to.include('    disconnect {\n      lost_after = "1h"\n      reconcile  = "best_score"\n    }');
    expect(hcl).to.include(
      '  ui {\n    description = "Web shop"\n\n    link {\n      label = "Runbook"\n      url   = "https://runbooks.example.com/web"\n    }\n  }',
    );
  });

  it('refuses unknown fields, wrong types, fields the spec owns and fields HCL cannot say, each at its place with its path', () => {
    const { problems } = render(
      SPEC(
        '        nomad:\n          KillTimout: 45s\n          Resources: {Cores: two}\n          Identity: {Name: other}\n          Name: other\n',
        '    nomad:\n      Count: "3"\n      Tasks: []\n',
        'nomad:\n  Update: {MaxParallel: "2"}\n  TaskGroups: []\n  Meta: {a: 1}\n',
      ),
    );
    expect(problems).to.deep.equal([
      "web.yaml:12:23  groups[0].tasks[0].nomad.KillTimout  unknown field `KillTimout` of Nomad's api.Task; did you mean `KillTimeout`?",
      'web.yaml:13:30  groups[0].tasks[0].nomad.Resources.Cores  expected an integer, got the text "two"',
      // Nomad's parser fills Task.Identity from an identity block without a name (or named `default`) only.
      'web.yaml:14:28  groups[0].tasks[0].nomad.Identity.Name  `Identity` is the task\'s default identity: Nomad\'s parser reads it back only unnamed or named `default`; put an identity named "other" in `Identities`',

      "web.yaml:15:17  groups[0].tasks[0].nomad.Name  `Name` cannot be set here: the task name is the task's `name`",
      'web.yaml:17:14  groups[0].nomad.Count  expected an integer, got the text "3"',
      "web.yaml:18:14  groups[0].nomad.Tasks  `Tasks` cannot be set here: tasks come from `tasks`; write a task's raw fields in that task's `nomad:` block",
      'web.yaml:20:25  nomad.Update.MaxParallel  expected an integer, got the text "2"',
      "web.yaml:21:15  nomad.TaskGroups  `TaskGroups` cannot be set here: groups come from `groups`; write a group's raw fields in that group's `nomad:` block",
      'web.yaml:22:13  nomad.Meta.a  expected a string, got the number 1',
    ]);
  });
});

describe('render: escape-hatch values HCL cannot carry (issue 12)', () => {
  /** A one-task spec whose task's `nomad: {Config: …}` holds `config` (lines indented 12 spaces). */
  const withConfig = (config: string) => `name: web
groups:
  - name: web
    tasks:
      - name: web
        image: {repository: shop/web, tag: "1.0"}
        nomad:
          Config:
${config}`;

  it('refuses driver config shapes that have no HCL form, at their place', () => {
    const text = withConfig(`            mounts: [{type: bind, target: /a}, plain]
            labels: {com.example/tier: web, nested: [{a: b}]}
            sysctl: [{net.core.somaxconn: "16384"}]
`);
    const set = loadSet([{ file: 'web.yaml', text, kind: 'service' }]);
    expect(set.problems.map(formatProblem)).to.deep.equal([
      "web.yaml:9:21  groups[0].tasks[0].nomad.Config.mounts  has no form in Nomad's HCL (a list mixing maps, lists and values, or maps that are neither blocks nor one object value)",
      "web.yaml:10:21  groups[0].tasks[0].nomad.Config.labels  has no form in Nomad's HCL (a list mixing maps, lists and values, or maps that are neither blocks nor one object value)",
    ]);
    // A map whose keys are not identifiers is an object attribute, with the keys quoted.
    const ok = text.replace(/ {12}mounts.*\n {12}labels.*\n/, '');
    expect(renderJobHcl(renderJob(standalone(loadSet([{ file: 'web.yaml', text: ok, kind: 'service' }]).services[0]!)))).to.include(
      '        sysctl = {\n          "net.core.somaxconn" = "16384"\n        }',
    );
  });

  it('refuses a registry password or token in a driver auth block at its place, never echoing it; an auth block without one stays', () => {
    const text = withConfig(`            auth:
              - username: deploy
                password: hunter2-in-the-job
                identitytoken: tok-in-the-job
`);
    const problems = loadSet([{ file: 'web.yaml', text, kind: 'service' }]).problems.map(formatProblem);
    const why =
      'a registry credential does not go in a job, where anyone who can read the job reads it: configure it on the clients, in the docker plugin\'s `auth { config = "/etc/docker/config.json" }` or `auth { helper = "…" }` (docs/spec.md, Registry credentials)';
    expect(problems).to.deep.equal([
      `web.yaml:11:27  groups[0].tasks[0].nomad.Config.auth[0].password  ${why}`,
      `web.yaml:12:32  groups[0].tasks[0].nomad.Config.auth[0].identitytoken  ${why}`,
    ]);
    expect(problems.join('\n')).not.to.include('hunter2').and.not.to.include('tok-in');
    // A helper's name or a server address is no credential.
    const helper = text.replace(/ {16}password.*\n {16}identitytoken.*\n/, '').replace('username: deploy', 'server_address: registry.example.com');
    expect(loadSet([{ file: 'web.yaml', text: helper, kind: 'service' }]).problems).to.deep.equal([]);
  });
});

describe('render --out never writes through a link, outside the folder, or over what it does not own', function () {
  this.timeout(60_000);
  const cli = (...args: string[]) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args]).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'hashiship-render-safe-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const web = () => readFileSync('jobs/generated/qa/web.nomad.hcl', 'utf8');

  it('refuses a target file that is a symbolic link (exit 1, naming it) and writes nothing, not even the other jobs', async () => {
    // Regression: writeFile followed the link and overwrote the file outside the folder.
    const outside = join(root, 'outside.txt');
    writeFileSync(outside, 'precious\n');
    const dir = join(root, 'out');
    mkdirSync(dir);
    symlinkSync(outside, join(dir, 'web.nomad.hcl'));
    const r = await cli('render', '--env', 'qa', '--out', dir, 'redis', 'web');
    expect(r.code, r.stderr).to.equal(1);
    expect(r.stderr).to.equal(
      `Error: ${join(dir, 'web.nomad.hcl')}: is a symbolic link; hashiship writes only regular files and never through a link: remove it or choose another --out\n`,
    );
    expect(readFileSync(outside, 'utf8')).to.equal('precious\n');
    expect(readdirSync(dir)).to.deep.equal(['web.nomad.hcl']);
    expect(lstatSync(join(dir, 'web.nomad.hcl')).isSymbolicLink()).to.equal(true);
  });

  it('refuses an --out folder that is a symbolic link to another folder', async () => {
    const elsewhere = join(root, 'elsewhere');
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, join(root, 'linked'));
    const r = await cli('render', '--env', 'qa', '--out', join(root, 'linked'), 'web');
    expect(r.code, r.stderr).to.equal(1);
    expect(r.stderr).to.include(`--out=${JSON.stringify(join(root, 'linked'))}: is a symbolic link; give a folder`);
    expect(readdirSync(elsewhere)).to.deep.equal([]);
  });

  it('refuses an --out that names a regular file: exit 1 naming it, the file untouched', async () => {
    // Regression: mkdir failed with EEXIST and the CLI reported "Error: internal" with exit 2.
    const file = join(root, 'plan.txt');
    writeFileSync(file, 'keep me\n');
    const r = await cli('render', '--env', 'qa', '--out', file);
    expect(r).to.deep.include({ code: 1, stdout: '' });
    expect(r.stderr).to.equal(
      `Error: --out=${JSON.stringify(file)}: is a file; give a folder (hashiship writes only into a real folder, never through a link)\n`,
    );
    expect(readFileSync(file, 'utf8')).to.equal('keep me\n');
  });

  it('refuses a target that is a folder before writing any file', async () => {
    const dir = join(root, 'out');
    mkdirSync(join(dir, 'web.nomad.hcl'), { recursive: true });
    const r = await cli('render', '--env', 'qa', '--out', dir, 'redis', 'web');
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include(`${join(dir, 'web.nomad.hcl')}: is a folder`);
    // redis comes first and was not written either; no temporary file is left.
    expect(readdirSync(dir)).to.deep.equal(['web.nomad.hcl']);
  });

  it('replaces a file by renaming a complete temporary file over it: no temporary file stays, the link count shows a new file', async () => {
    const dir = join(root, 'out');
    mkdirSync(dir);
    writeFileSync(join(dir, 'web.nomad.hcl'), 'old\n');
    // A hard link to the old file keeps the old text: the new one is a new file, not a rewrite in place.
    linkSync(join(dir, 'web.nomad.hcl'), join(root, 'hardlink'));
    const r = await cli('render', '--env', 'qa', '--out', dir, 'web');
    expect(r.code, r.stderr).to.equal(0);
    expect(readFileSync(join(dir, 'web.nomad.hcl'), 'utf8')).to.equal(web());
    expect(readFileSync(join(root, 'hardlink'), 'utf8')).to.equal('old\n');
    expect(readdirSync(dir)).to.deep.equal(['web.nomad.hcl']);
  });

  it('removes only regular files hashiship wrote for this environment: not links, not other environments, not look-alikes', async () => {
    const dir = join(root, 'out');
    mkdirSync(dir);
    // An owned qa file outside, reached through a link named like a stale job file.
    const outsideOwned = join(root, 'retired.nomad.hcl');
    writeFileSync(outsideOwned, web().replace('job "web"', 'job "retired"'));
    symlinkSync(outsideOwned, join(dir, 'linked.nomad.hcl'));
    // production's job in qa's folder: not qa's to remove.
    writeFileSync(join(dir, 'prod.nomad.hcl'), readFileSync('jobs/generated/production/web.nomad.hcl', 'utf8').replace('job "web"', 'job "prod"'));
    // The ownership line inside a hand-written template, not in the job's meta.
    writeFileSync(
      join(dir, 'lookalike.nomad.hcl'),
      'job "lookalike" {\n  group "g" {\n    task "t" {\n      template {\n        data = <<EOT\nhashiship_tool = "hashiship"\nEOT\n      }\n    }\n  }\n}\n',
    );
    // Owned by hashiship for qa, but its job is not the one its name says.
    writeFileSync(join(dir, 'renamed.nomad.hcl'), web());
    // Really stale: qa's own file of a job no longer rendered.
    writeFileSync(join(dir, 'retired.nomad.hcl'), web().replace('job "web"', 'job "retired"'));
    const r = await cli('render', '--env', 'qa', '--out', dir);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain(`removed ${join(dir, 'retired.nomad.hcl')} (no longer rendered)\n`);
    expect(r.stdout.match(/^removed /gm)).to.have.length(1);
    expect(readdirSync(dir)).to.include.members(['linked.nomad.hcl', 'prod.nomad.hcl', 'lookalike.nomad.hcl', 'renamed.nomad.hcl']);
    expect(readFileSync(outsideOwned, 'utf8')).to.include('job "retired"');
  });

  it('removes nothing when the set of services is empty', async () => {
    // Regression: an empty services folder rendered 0 jobs and removed every owned file.
    const dir = join(root, 'out');
    mkdirSync(dir);
    mkdirSync(join(root, 'services'));
    mkdirSync(join(root, 'environments'));
    writeFileSync(join(root, 'environments', 'qa.yaml'), 'name: qa\ndatacenters: ["*"]\n');
    writeFileSync(join(dir, 'web.nomad.hcl'), web());
    const r = await cli('render', '--env', 'qa', '--services', join(root, 'services'), '--environments', join(root, 'environments'), '--out', dir);
    expect(r.stdout).not.to.include('removed');
    expect(readdirSync(dir)).to.deep.equal(['web.nomad.hcl']);
  });

  it('library: refuses file names that leave the folder and never removes with an empty set', async () => {
    const dir = join(root, 'out');
    for (const name of ['../escape.nomad.hcl', 'a/b.nomad.hcl', '..', '.hidden.nomad.hcl', 'x\u0000.nomad.hcl']) {
      const err = await writeJobFiles(dir, [{ name, text: 'x' }], { format: 'hcl', environment: 'qa' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, name).to.be.instanceOf(InputError);
      expect((err as InputError).message, name).to.include('not a plain file name');
    }
    expect(existsSync(dir), 'nothing created').to.equal(false);
    expect(existsSync(join(root, 'escape.nomad.hcl'))).to.equal(false);
    mkdirSync(dir);
    writeFileSync(join(dir, 'web.nomad.hcl'), web());
    expect(await writeJobFiles(dir, [], { format: 'hcl', environment: 'qa', removeStale: true })).to.deep.equal({ written: [], removed: [] });
    expect(readdirSync(dir)).to.deep.equal(['web.nomad.hcl']);
  });

  it('library: a file the file system refuses midway removes the files this call created and its temporary files, and replaces nothing', async () => {
    const dir = join(root, 'out');
    mkdirSync(dir);
    writeFileSync(join(dir, 'b.nomad.hcl'), 'old\n');
    // A name of 300 bytes: the file system refuses it (ENAMETOOLONG) after a.nomad.hcl was created and b's temporary file written.
    const long = `${'x'.repeat(300)}.nomad.hcl`;
    const files = [
      { name: 'a.nomad.hcl', text: 'a\n' },
      { name: 'b.nomad.hcl', text: 'b\n' },
      { name: long, text: 'x\n' },
    ];
    const err = await writeJobFiles(dir, files, { format: 'hcl', environment: 'qa' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(InputError);
    expect((err as InputError).message).to.include(`${join(dir, long)}: cannot create: ENAMETOOLONG`);
    expect(readdirSync(dir)).to.deep.equal(['b.nomad.hcl']);
    expect(readFileSync(join(dir, 'b.nomad.hcl'), 'utf8')).to.equal('old\n');
    // The same files without the refused one: a is created, b replaced.
    const done = await writeJobFiles(dir, files.slice(0, 2), { format: 'hcl', environment: 'qa' });
    expect(done.written).to.deep.equal([join(dir, 'a.nomad.hcl'), join(dir, 'b.nomad.hcl')]);
    expect(readdirSync(dir).sort()).to.deep.equal(['a.nomad.hcl', 'b.nomad.hcl']);
    expect(readFileSync(join(dir, 'a.nomad.hcl'), 'utf8')).to.equal('a\n');
    expect(readFileSync(join(dir, 'b.nomad.hcl'), 'utf8')).to.equal('b\n');
  });

  it('library: judges ownership from the job itself, in HCL and JSON', () => {
    expect(ownedJobFile('web.nomad.hcl', web(), 'hcl', 'qa')).to.equal(true);
    expect(ownedJobFile('web.nomad.hcl', web(), 'hcl', 'production')).to.equal(false);
    expect(ownedJobFile('other.nomad.hcl', web(), 'hcl', 'qa')).to.equal(false);
    expect(ownedJobFile('web.nomad.hcl', 'not hcl {', 'hcl', 'qa')).to.equal(false);
    const json = (meta: Record<string, string>) => JSON.stringify({ Job: { ID: 'web', Meta: meta } });
    expect(ownedJobFile('web.json', json({ hashiship_tool: 'hashiship', hashiship_environment: 'qa' }), 'json', 'qa')).to.equal(true);
    expect(ownedJobFile('web.json', json({ hashiship_tool: 'hashiship' }), 'json', 'qa')).to.equal(false);
    expect(ownedJobFile('web.json', '{"Job": {"ID": "web", "Meta": {"note": "\\"hashiship_tool\\": \\"hashiship\\""}}}', 'json', 'qa')).to.equal(false);
  });
});
