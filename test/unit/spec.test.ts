/**
 * Spec files: structural and semantic validation with positions, environment
 * overlays, the invalid corpus and its exact messages, the published JSON
 * Schema, and the validate command's output and exit code.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { formatProblem } from '../../src/errors.js';
import { readSpecFiles } from '../../src/service-spec/files.js';
import { jsonSchemaFiles } from '../../src/service-spec/json-schema.js';
import { referenceMarkdown } from '../../src/service-spec/reference.js';
import { kindOf, loadSet, resolveEnvironment, type SpecFile } from '../../src/service-spec/load.js';
import { suggest } from '../../src/service-spec/suggest.js';

const run = promisify(execFile);
const INVALID = 'test/fixtures/invalid';

const svc = (file: string, text: string): SpecFile => ({ file, text, kind: 'service' });
const env = (file: string, text: string): SpecFile => ({ file, text, kind: 'environment' });
const lines = (files: readonly SpecFile[]): string[] => loadSet(files).problems.map(formatProblem);

const WEB = `name: web
groups:
  - name: web
    count: 3
    ports:
      http: {}
    update:
      canary: 1
    services:
      - port: http
        routes:
          - host: www
    tasks:
      - name: web
        image:
          repository: shop/web
          tag: "1.0"
        resources:
          memory: 256
`;

describe('spec: invalid corpus', () => {
  const cases = readdirSync(INVALID).sort();

  it('has at least 40 cases, each with the messages it must produce', () => {
    expect(cases.length).to.be.at.least(40);
    for (const c of cases) {
      const expected = readFileSync(join(INVALID, c, 'expected.txt'), 'utf8');
      expect(expected.trim(), c).to.not.equal('');
    }
  });

  for (const c of cases) {
    it(`${c} yields exactly its expected problems`, async () => {
      const expected = readFileSync(join(INVALID, c, 'expected.txt'), 'utf8')
        .split('\n')
        .filter((l) => l !== '');
      const set = loadSet(await readSpecFiles([join(INVALID, c)]));
      expect(set.problems.map(formatProblem)).to.deep.equal(expected);
    });
  }
});

describe('spec: validation', () => {
  it('accepts every example with both environments', async () => {
    const set = loadSet(await readSpecFiles(['jobs/services', 'jobs/environments']));
    expect(set.problems.map(formatProblem)).to.deep.equal([]);
    expect(set.services.map((s) => s.spec.name).sort()).to.deep.equal(
      ['billing', 'fabio', 'kafka', 'mongodb', 'mysql', 'payments', 'redis', 'reindex', 'reports', 'web'].sort(),
    );
    expect(set.environments.map((e) => e.env.name).sort()).to.deep.equal(['production', 'qa']);
  });

  it('collects every problem of every file in one run, sorted by file and line', () => {
    const out = lines([
      svc('b/web.yaml', WEB.replace('count: 3', 'count: 0').replace('tag: "1.0"', 'tag: "1.0"\n        driver: docker\n        kill_timeout: soon')),
      svc('a/api.yaml', 'name: api\ngroups:\n  - name: api\n    tasks: []\n    cuont: 2\n'),
    ]);
    expect(out).to.deep.equal([
      'a/api.yaml:4:12  groups[0].tasks  a group needs a task (Nomad refuses a group without one: "Missing tasks for task group"); only a Connect gateway group has none, Nomad adds its task',
      'a/api.yaml:5:5  groups[0].cuont  unknown key `cuont`; did you mean `count`?',
      'b/web.yaml:8:15  groups[0].update.canary  canary (1) must not exceed count (0)',
      'b/web.yaml:19:23  groups[0].tasks[0].kill_timeout  `soon` is not a duration (write e.g. 500ms, 30s, 1m30s or 2h)',
    ]);
  });

  it('stays quiet about consequences of a structural mistake it already reported', () => {
    // The port label is invalid: no second problem about it being undeclared.
    const out = lines([svc('web.yaml', WEB.replace('      - port: http', '      - port: http admin'))]);
    expect(out).to.deep.equal([
      'web.yaml:10:15  groups[0].services[0].port  `http admin` is not valid: use letters, digits, underscores and dashes, starting with a letter (it becomes NOMAD_PORT_<label>), or a port number',
    ]);
  });

  it('resolves YAML aliases and normalizes text to NFC as HCL does', () => {
    const text = `name: web
meta:
  a: &v "Ω caf\u0065\u0301"
  b: *v
groups:
  - name: web
    tasks:
      - name: web
        image: {repository: shop/web, tag: "1"}
`;
    const set = loadSet([svc('web.yaml', text)]);
    expect(set.problems).to.deep.equal([]);
    expect(set.services[0]!.spec.meta).to.deep.equal({ a: 'Ω café', b: 'Ω café' });
    expect(set.services[0]!.spec.meta!['a']).to.equal('\u03a9 caf\u00e9');
  });

  it('classifies files: environments/ and *.env.yaml are environments', () => {
    expect(kindOf('jobs/environments/qa.yaml')).to.equal('environment');
    expect(kindOf('x/golden.env.yaml')).to.equal('environment');
    expect(kindOf('jobs/services/web.yaml')).to.equal('service');
  });
});

describe('spec: environment overlays', () => {
  const QA = `name: qa
datacenters: [dc1]
registry: registry.qa:5000
domain: qa.example.com
vault_role: qa-apps
update:
  auto_promote: true
  min_healthy_time: 20s
services:
  web:
    vault_role: web-qa
    groups:
      web:
        count: 2
        update:
          min_healthy_time: 30s
        tasks:
          web:
            resources:
              cpu: 300
`;

  it('applies environment values over the spec and service overrides over both', () => {
    const set = loadSet([svc('web.yaml', WEB), env('qa.yaml', QA)]);
    expect(set.problems.map(formatProblem)).to.deep.equal([]);
    const [web] = resolveEnvironment(set, 'qa');
    const g = web!.spec.groups[0]!;
    expect(web!.spec.datacenters).to.deep.equal(['dc1']);
    expect(g.count).to.equal(2);
    expect(g.update).to.deep.equal({ canary: 1, auto_promote: true, min_healthy_time: '30s' });
    expect(g.tasks[0]!.resources).to.deep.equal({ memory: 256, cpu: 300 });
    expect(web!.vaultRole).to.equal('web-qa');
    expect(web!.origin('groups[0].count').at).to.deep.equal({ file: 'qa.yaml', line: 14, col: 16 });
    expect(web!.origin('groups[0].update.canary').at.file).to.equal('web.yaml');
  });

  it('applies the environment-wide auto_promote only to groups with canaries', () => {
    const set = loadSet([svc('web.yaml', WEB.replace('canary: 1', 'canary: 0')), env('qa.yaml', 'name: qa\nupdate:\n  auto_promote: true\n')]);
    expect(set.problems).to.deep.equal([]);
    expect(resolveEnvironment(set, 'qa')[0]!.spec.groups[0]!.update).to.deep.equal({ canary: 0 });
  });

  it('points a problem caused by an override at the environment file', () => {
    const out = lines([
      svc('web.yaml', WEB),
      env('qa.yaml', 'name: qa\nservices:\n  web:\n    groups:\n      web:\n        tasks:\n          web:\n            resources:\n              memory: 5\n'),
    ]);
    expect(out).to.deep.equal(['qa.yaml:9:23  services.web.groups.web.tasks.web.resources.memory  must be at least 10 (got 5)']);
  });

  it('names unknown environments with a suggestion', () => {
    const set = loadSet([svc('web.yaml', WEB), env('qa.yaml', 'name: qa\n'), env('production.yaml', 'name: production\n')]);
    expect(() => resolveEnvironment(set, 'prod')).to.throw('--env: no environment `prod` (known: qa, production); did you mean `production`?');
  });
});

describe('spec: suggestions', () => {
  it('finds typos, other spellings and abbreviations, and nothing for unrelated words', () => {
    const keys = ['healthy_deadline', 'min_healthy_time', 'progress_deadline', 'canary'];
    expect(suggest('helthy_deadline', keys)).to.equal('healthy_deadline');
    expect(suggest('healthyDeadline', keys)).to.equal('healthy_deadline');
    expect(suggest('progress-deadline', keys)).to.equal('progress_deadline');
    expect(suggest('cnaary', keys)).to.equal('canary');
    expect(suggest('prod', ['qa', 'production'])).to.equal('production');
    expect(suggest('owner', keys)).to.equal(undefined);
  });
});

describe('spec: JSON Schema', () => {
  it('is published up to date in jobs/schema (run `npm run golden` after changing the schema)', () => {
    for (const [name, text] of Object.entries(jsonSchemaFiles())) {
      expect(readFileSync(join('jobs/schema', name), 'utf8'), name).to.equal(text);
    }
  });

  it('is documented: the key reference in docs/spec.md is up to date', () => {
    const doc = readFileSync('docs/spec.md', 'utf8');
    const start = '<!-- reference:start (npm run golden) -->';
    const section = doc.slice(doc.indexOf(start) + start.length, doc.indexOf('<!-- reference:end -->'));
    expect(section).to.equal(`\n\n${referenceMarkdown()}\n`);
  });

  it('is referenced by every example for editors', () => {
    for (const dir of ['jobs/services', 'jobs/environments']) {
      for (const f of readdirSync(dir)) {
        const first = readFileSync(join(dir, f), 'utf8').split('\n')[0];
        const text = readFileSync(join(dir, f), 'utf8');
        // `kind: external` files (registered in Consul, not Nomad jobs) have their own schema.
        const schema = !dir.endsWith('services') ? 'environment' : /^kind: external$/m.test(text) ? 'external' : 'service';
        expect(first, f).to.equal(`# yaml-language-server: $schema=../schema/${schema}.schema.json`);
      }
    }
  });

  it('describes every key the validator knows, closed against unknown keys', () => {
    const schema = JSON.parse(jsonSchemaFiles()['service.schema.json']!) as {
      properties: Record<string, unknown>;
      additionalProperties: boolean;
      required: string[];
    };
    expect(schema.additionalProperties).to.equal(false);
    expect(schema.required).to.deep.equal(['name', 'groups']);
    expect(Object.keys(schema.properties)).to.include.members(['name', 'type', 'groups', 'periodic', 'meta']);
  });
});

describe('hashiship validate', function () {
  this.timeout(60_000);
  const cli = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args]).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  it('passes the examples and says what it checked', async () => {
    const r = await cli('validate');
    expect(r).to.deep.include({ code: 0, stdout: 'ok: 10 services, 1 external, 2 environments (production, qa)\n' });
  });

  it('refuses an escape-hatch field Nomad does not know, or of the wrong type, with exit 1, its place and its path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hashiship-nomad-'));
    try {
      writeFileSync(
        join(dir, 'web.yaml'),
        'name: web\ngroups:\n  - name: web\n    nomad:\n      Disconect: {LostAfter: 1h}\n      Count: many\n    tasks:\n      - name: web\n        image: {repository: shop/web, tag: "1.0"}\n',
      );
      const r = await cli('validate', dir);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.equal(
        [
          'Error: 2 problems in the input',
          `  ${join(dir, 'web.yaml')}:5:18  groups[0].nomad.Disconect  unknown field \`Disconect\` of Nomad's api.TaskGroup; did you mean \`Disconnect\`?`,
          `  ${join(dir, 'web.yaml')}:6:14  groups[0].nomad.Count  expected an integer, got the text "many"`,
          '',
        ].join('\n'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints every problem as file:line:col  path  message and exits 1', async () => {
    const dir = join(INVALID, '59-several-problems-in-one-file');
    const r = await cli('validate', dir);
    expect(r.code).to.equal(1);
    const expected = readFileSync(join(dir, 'expected.txt'), 'utf8').trimEnd().split('\n');
    expect(r.stderr).to.equal(`Error: 3 problems in the input\n${expected.map((l) => `  ${l}`).join('\n')}\n`);
  });
});
