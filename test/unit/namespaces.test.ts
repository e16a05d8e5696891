/**
 * Namespaced environments, the parts without a server: the `namespaces:` key of
 * an environment file, the namespaces in the plan, a client scoped to a job's
 * namespace, and where a job lives when its spec names no namespace. The verbs
 * on the real stack: test/integration/namespaces.test.ts.
 */
import { expect } from 'chai';
import { createClients } from '../../src/clients.js';
import { resolveConfig } from '../../src/config/index.js';
import { formatPlan, jobPlan, planDocument, planExitCode } from '../../src/deploy/plan.js';
import { OutputRedactor } from '../../src/redact.js';
import { createDeployContext, inNamespace, namespaceOf } from '../../src/deploy/runtime.js';
import { formatProblem } from '../../src/errors.js';
import { silent } from '../../src/log.js';
import { renderAll } from '../../src/nomad/render.js';
import { loadSet, resolveEnvironment, type SpecFile } from '../../src/service-spec/load.js';

const r = new OutputRedactor([]);
const svc = (file: string, text: string): SpecFile => ({ file, text, kind: 'service' });
const env = (file: string, text: string): SpecFile => ({ file, text, kind: 'environment' });
const WEB = `name: web
groups:
  - name: web
    tasks:
      - name: web
        driver: raw_exec
        command: /bin/sleep
        args: ["600"]
`;

describe('namespaces: the environment file', () => {
  it('accepts a list of names, each with an optional description', () => {
    const set = loadSet([
      svc('web.yaml', WEB),
      env('environments/qa.yaml', 'name: qa\nnamespace: qa\nnamespaces:\n  - name: qa\n    description: QA\n  - name: team-b\n'),
    ]);
    expect(set.problems.map(formatProblem)).to.deep.equal([]);
    expect(set.environments[0]?.env.namespaces).to.deep.equal([{ name: 'qa', description: 'QA' }, { name: 'team-b' }]);
  });

  it('names the place of a bad entry: a name Nomad refuses, a missing name, an unknown key', () => {
    const problems = loadSet([
      svc('web.yaml', WEB),
      env('environments/qa.yaml', 'name: qa\nnamespaces:\n  - name: no_underscores\n  - description: nameless\n  - name: ok\n    owner: me\n'),
    ]).problems.map(formatProblem);
    expect(problems.join('\n')).to.include('environments/qa.yaml:3:');
    expect(problems.join('\n')).to.include('namespaces[0].name');
    expect(problems.join('\n')).to.include('use letters, digits and dashes');
    expect(problems.join('\n')).to.include('namespaces[1]');
    expect(problems.join('\n')).to.include('owner');
    expect(problems).to.have.length(3);
  });
});

describe('namespaces: in the plan', () => {
  const job = { ID: 'web', Namespace: 'qa', TaskGroups: [] };
  const planned = jobPlan(
    {
      source: 'jobs/services/web.yaml',
      job,
      exists: false,
      ownership: { status: 'absent' },
      preservedCounts: [],
      response: { JobModifyIndex: 0 },
      namespace: 'qa',
      unplanned: 'namespace qa is created on deploy, then Nomad places the job',
    },
    r,
  );

  it("lists the namespaces to create first, counts them as changes (exit 1), and names each job's namespace", () => {
    const doc = planDocument('qa', [planned], [{ id: 'old', namespace: 'legacy', jobModifyIndex: 7, reason: 'spec removed' }], new Date(0), {
      namespaces: [
        { name: 'qa', description: 'QA of the sample', action: 'create' },
        { name: 'shared', action: 'none' },
      ],
    });
    const text = formatPlan(doc, r);
    expect(text.split('\n').slice(0, 3)).to.deep.equal(['namespace qa: will be created ("QA of the sample")', 'namespace shared: exists', '']);
    expect(text).to.include('web: will be created  (namespace qa; job modify index 0; jobs/services/web.yaml)');
    // Nomad cannot plan in a namespace that does not exist yet: the plan must not claim placement was checked.
    expect(text).to.include('placement: not checked (namespace qa is created on deploy, then Nomad places the job)');
    expect(text).not.to.include('all allocations can be placed');
    expect(text).to.include('old: will be STOPPED (--prune)  (namespace legacy; job modify index 7; spec removed)');
    expect(text).to.include('Plan for qa: 1 namespace to create, 1 to create, 0 to update, 1 to stop, 0 unchanged.');
    expect(doc.namespaces).to.deep.equal([
      { name: 'qa', description: 'QA of the sample', action: 'create' },
      { name: 'shared', action: 'none' },
    ]);
    expect(doc.jobs[0]?.namespace).to.equal('qa');
  });

  it('a namespace to create alone is a change; one that exists is not', () => {
    const unchanged = { ...planned, action: 'none' as const };
    expect(planExitCode(planDocument('qa', [unchanged], [], new Date(0), { namespaces: [{ name: 'qa', action: 'create' }] }))).to.equal(1);
    expect(planExitCode(planDocument('qa', [unchanged], [], new Date(0), { namespaces: [{ name: 'qa', action: 'none' }] }))).to.equal(0);
  });
});

describe('namespaces: where a job lives', () => {
  it('the namespace a spec or environment names wins; NOMAD_NAMESPACE is only the default of the others', () => {
    const set = loadSet([
      svc('web.yaml', WEB),
      svc('api.yaml', WEB.replace('name: web\n', 'name: api\nnamespace: team-api\n')),
      env('environments/qa.yaml', 'name: qa\n'),
      env('environments/prod.yaml', 'name: prod\nnamespace: prod\n'),
    ]);
    const ns = (e: string, namespace?: string) =>
      Object.fromEntries(renderAll(resolveEnvironment(set, e), namespace === undefined ? {} : { namespace }).map((j) => [j.name, j.job.Namespace]));
    expect(ns('qa')).to.deep.equal({ web: 'default', api: 'team-api' });
    expect(ns('qa', 'from-variable')).to.deep.equal({ web: 'from-variable', api: 'team-api' });
    expect(ns('prod', 'from-variable')).to.deep.equal({ web: 'prod', api: 'prod' });
  });

  it("a context scoped to a job's namespace shares the connection; a job file without one gets the default", () => {
    const context = (env: Record<string, string>) => {
      const config = resolveConfig({ env, home: '/nonexistent' });
      return createDeployContext(config, silent, createClients(config));
    };
    const root = context({ NOMAD_NAMESPACE: 'team' });
    expect(root.nomad.client.namespace).to.equal('team');
    const qa = inNamespace(root, 'qa');
    expect(qa.nomad.client.namespace).to.equal('qa');
    expect(qa.nomad.jobs.client).to.equal(qa.nomad.client);
    expect(qa.nomad.client.api).to.equal(root.nomad.client.api);
    expect(root.nomad.client.namespace).to.equal('team');
    expect(inNamespace(root, undefined)).to.equal(root);
    expect(inNamespace(root, 'team')).to.equal(root);
    expect(namespaceOf({ Namespace: 'qa' }, root.nomad.client)).to.equal('qa');
    expect(namespaceOf({}, root.nomad.client)).to.equal('team');
    expect(namespaceOf({ Namespace: '' }, context({}).nomad.client)).to.equal('default');
  });
});
