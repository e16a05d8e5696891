/**
 * The plan's pure parts: Nomad's diff rendered as text (templates as line
 * diffs), the document, exit codes, and redaction on every output path.
 */
import { expect } from 'chai';
import type { JobDiff, PlanResponse } from '../../src/nomad/jobs.js';
import { InputError } from '../../src/errors.js';
import {
  canonicalJson,
  checkPruneInput,
  diffText,
  formatPlan,
  imagesOf,
  jobHash,
  jobPlan,
  lineDiff,
  orphanPlan,
  planAction,
  planDocument,
  planExitCode,
  pruneRefusal,
  withContext,
} from '../../src/deploy/plan.js';
import { OutputRedactor, REDACTED, isSecretName, redactTemplate, redactTokens } from '../../src/redact.js';

const r = new OutputRedactor(['s3cr3t-nomad-token-value']);

/** A diff as Nomad 1.11 answers `PUT /v1/job/web/plan` for an image, env and template change. */
const diff: JobDiff = {
  Type: 'Edited',
  ID: 'web',
  Fields: [{ Type: 'Edited', Name: 'Meta[hashiship_spec_hash]', Old: 'aaa', New: 'bbb', Annotations: null }],
  Objects: null,
  TaskGroups: [
    {
      Type: 'Edited',
      Name: 'web',
      Fields: [{ Type: 'Edited', Name: 'Count', Old: '1', New: '2', Annotations: null }],
      Objects: null,
      Updates: { 'create/destroy update': 1, create: 1 },
      Tasks: [
        {
          Type: 'Edited',
          Name: 'web',
          Annotations: ['forces create/destroy update'],
          Fields: [
            { Type: 'Edited', Name: 'Env[DB_PASSWORD]', Old: 'hunter2-old', New: 'hunter2-new', Annotations: null },
            { Type: 'Added', Name: 'Env[LOG_LEVEL]', Old: '', New: 'debug', Annotations: null },
          ],
          Objects: [
            {
              Type: 'Edited',
              Name: 'Config',
              Fields: [
                { Type: 'Edited', Name: 'image', Old: 'registry/web:1', New: 'registry/web:2', Annotations: null },
                { Type: 'Added', Name: 'auth[0][password]', Old: '', New: 'registry-pass', Annotations: null },
              ],
              Objects: null,
            },
            {
              Type: 'Edited',
              Name: 'Template',
              Fields: [
                {
                  Type: 'Edited',
                  Name: 'EmbeddedTmpl',
                  Old: 'A=1\nB=2\nC=3\nD=4\nE=5\nF=6\nG=7\n{{ with secret "kv/data/web" }}PASS={{ .Data.data.pw }}{{ end }}\n',
                  New: 'A=1\nB=2\nC=3\nD=4\nE=5\nF=six\nG=7\n{{ with secret "kv/data/web" }}PASS={{ .Data.data.pw }}literal-leak{{ end }}\n',
                  Annotations: null,
                },
              ],
              Objects: null,
            },
          ],
        },
      ],
    },
  ],
};

describe('plan: line diff of multi-line values', () => {
  it('keeps common lines and marks removed and added ones', () => {
    expect(lineDiff('a\nb\nc\n', 'a\nx\nc\n')).to.deep.equal([
      { op: ' ', line: 'a' },
      { op: '-', line: 'b' },
      { op: '+', line: 'x' },
      { op: ' ', line: 'c' },
    ]);
    expect(lineDiff('', 'a\n')).to.deep.equal([{ op: '+', line: 'a' }]);
    expect(lineDiff('a\n', '')).to.deep.equal([{ op: '-', line: 'a' }]);
  });

  it('folds long unchanged runs into one marker', () => {
    const old = Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n');
    const changed = old.replace('line 10', 'line ten');
    const shown = withContext(lineDiff(old, changed), 2);
    expect(shown[0]).to.deep.equal({ op: '…', skipped: 8 });
    expect(shown.filter((l) => l.op === '-' || l.op === '+')).to.have.length(2);
    expect(shown[shown.length - 1]).to.deep.equal({ op: '…', skipped: 7 });
  });
});

describe('plan: diff text', () => {
  const lines = diffText(diff, r);
  const text = lines.join('\n');

  it('shows the job, group updates, task annotations and field changes like nomad job plan', () => {
    expect(lines[0]).to.equal('+/- Job: "web"');
    expect(text).to.include('+/- Task Group: "web" (1 create, 1 create/destroy update)');
    expect(text).to.include('+/- Task: "web" (forces create/destroy update)');
    expect(text).to.include('+/- image: "registry/web:1" => "registry/web:2"');
    expect(text).to.include('+/- Count: "1" => "2"');
    expect(text).to.include('+ Env[LOG_LEVEL]: "debug"');
  });

  it('shows a template change as a line diff with context, not one long string', () => {
    expect(text).to.include('+/- EmbeddedTmpl:');
    expect(text).to.match(/- F=6\n\s+\+ F=six/);
    expect(text).to.include('… 3 unchanged lines');
    expect(text).not.to.include('A=1\\nB=2');
  });

  it('redacts values under secret names and literals under a secret reference', () => {
    expect(text).not.to.include('hunter2');
    expect(text).not.to.include('registry-pass');
    expect(text).not.to.include('literal-leak');
    expect(text).to.include(`+/- Env[DB_PASSWORD]: "${REDACTED}" => "${REDACTED}"`);
    expect(text).to.include('{{ .Data.data.pw }}'); // the reference stays readable
  });
});

describe('plan: redaction rules', () => {
  it('recognises secret-like names in flattened and dotted forms', () => {
    for (const n of ['Env[DB_PASSWORD]', 'Config.auth[0][username]', 'GetterOptions[token]', 'api_key', 'AWS_SECRET_ACCESS_KEY', 'Meta[github_token]']) {
      expect(isSecretName(n), n).to.equal(true);
    }
    for (const n of ['Env[LOG_LEVEL]', 'image', 'AutoRevert', 'Count', 'Meta[hashiship_spec_hash]', 'Author']) {
      expect(isSecretName(n), n).to.equal(false);
    }
  });

  it('replaces token-like values anywhere', () => {
    const t = redactTokens(
      'vault hvs.CAESIJlongtokenvalue1234567890ab jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijk ' +
        'aws AKIAIOSFODNN7EXAMPLE url https://user:pa55word@registry.example/v2 header Bearer abcdefghijklmnop password=letmein',
    );
    for (const leak of ['hvs.CAESIJ', 'eyJhbGci', 'AKIAIOSFODNN7EXAMPLE', 'pa55word', 'abcdefghijklmnop', 'letmein']) expect(t).not.to.include(leak);
    expect(t).to.include('https://user:<redacted>@registry.example/v2');
  });

  it('keeps template actions and NAME= prefixes but not literals inside secret blocks', () => {
    const tpl = '{{ with secret "kv/data/x" }}\nUSER=admin\nPASS={{ .Data.data.pw }}\n{{ end }}\nPLAIN=visible\n';
    const out = redactTemplate(tpl);
    expect(out).to.include('PASS={{ .Data.data.pw }}');
    expect(out).to.include(`USER=${REDACTED}`);
    expect(out).to.include('PLAIN=visible');
  });

  it('removes known secrets (the configured tokens) from free text and from JSON', () => {
    expect(r.text('token s3cr3t-nomad-token-value in a log line')).to.equal('token <redacted> in a log line');
    const doc = r.deep({ jobs: [{ diff, note: 'see s3cr3t-nomad-token-value' }] });
    const json = JSON.stringify(doc);
    expect(() => JSON.parse(json)).not.to.throw();
    for (const leak of ['s3cr3t-nomad', 'hunter2', 'registry-pass', 'literal-leak']) expect(json).not.to.include(leak);
  });
});

describe('plan: document and exit codes', () => {
  const response: PlanResponse = {
    Diff: diff,
    JobModifyIndex: 42,
    FailedTGAllocs: {
      web: { NodesEvaluated: 1, NodesExhausted: 1, DimensionExhausted: { memory: 1 }, CoalescedFailures: 1 },
    },
    Warnings: 'Group "web" has warnings: token=abc123secret\n',
  };
  const job = {
    ID: 'web',
    Type: 'service',
    Meta: {},
    TaskGroups: [
      {
        Name: 'web',
        Count: 2,
        Tasks: [
          { Name: 'web', Driver: 'docker', Config: { image: `registry/web@sha256:${'a'.repeat(64)}` } },
          { Name: 'log', Driver: 'docker', Config: { image: 'registry/log:1.0' } },
          { Name: 'run', Driver: 'raw_exec', Config: { command: '/bin/true' } },
        ],
      },
    ],
  };

  it('reads the action from the diff and existence', () => {
    expect(planAction({ JobModifyIndex: 0, Diff: { Type: 'Added', ID: 'x' } }, false)).to.equal('create');
    expect(planAction({ JobModifyIndex: 5, Diff: { Type: 'None', ID: 'x' } }, true)).to.equal('none');
    expect(planAction({ JobModifyIndex: 5, Diff: { Type: 'Edited', ID: 'x' } }, true)).to.equal('update');
  });

  it('lists images with their pinned digests', () => {
    expect(imagesOf(job)).to.deep.equal([
      { group: 'web', task: 'web', image: `registry/web@sha256:${'a'.repeat(64)}`, digest: `sha256:${'a'.repeat(64)}` },
      { group: 'web', task: 'log', image: 'registry/log:1.0' },
    ]);
  });

  it('hashes jobs independently of key order', () => {
    expect(jobHash({ ID: 'a', Type: 'service' })).to.equal(jobHash({ Type: 'service', ID: 'a' } as { ID: string }));
    expect(jobHash({ ID: 'a', Type: 'service' })).not.to.equal(jobHash({ ID: 'a', Type: 'batch' }));
    expect(canonicalJson({ b: [1, { d: 1, c: undefined }], a: 'x' })).to.equal('{"a":"x","b":[1,{"d":1}]}');
  });

  it('builds the document: modify index, placement failures, stops, summary; exit 1 with changes, 0 without', () => {
    const p = jobPlan(
      { source: 'jobs/services/web.yaml', job, exists: true, liveVersion: 3, ownership: { status: 'owned' }, preservedCounts: [], response },
      r,
    );
    expect(p.action).to.equal('update');
    expect(p.jobModifyIndex).to.equal(42);
    expect(p.placementFailures).to.deep.equal([
      { group: 'web', unplaced: 2, reasons: ['* Resources exhausted on 1 nodes', '* Dimension "memory" exhausted on 1 nodes'] },
    ]);
    expect(p.warnings.join()).not.to.include('abc123secret');
    const doc = planDocument('qa', [p], [{ id: 'old', jobModifyIndex: 7, reason: 'spec removed' }], new Date(0));
    expect(doc.summary).to.deep.equal({ create: 0, update: 1, unchanged: 0, stop: 1, kept: 0 });
    expect(planExitCode(doc)).to.equal(1);
    const text = formatPlan(doc, r);
    expect(text).to.include('web: will be updated from version 3  (job modify index 42; jobs/services/web.yaml)');
    expect(text).to.include('old: will be STOPPED');
    expect(text).to.include('placement: WARNING group "web": 2 allocations cannot be placed');
    expect(text).to.include('image: web/log: registry/log:1.0 (tag; digest not pinned)');
    expect(text).to.include('image: web/web: registry/web@sha256:aaaaaaaaaaaa');
    expect(text).not.to.include('hunter2');
    const none = planDocument('qa', [{ ...p, action: 'none' }], [], new Date(0));
    expect(planExitCode(none)).to.equal(0);
    expect(formatPlan(none, r)).to.include('0 to create, 0 to update, 0 to stop, 1 unchanged');
  });

  it('warns in the text when the live job belongs to someone else', () => {
    const p = jobPlan(
      { source: 'x.hcl', job, exists: true, ownership: { status: 'foreign', detail: 'not stamped by hashiship' }, preservedCounts: [], response },
      r,
    );
    expect(formatPlan(planDocument('qa', [p], [], new Date(0)), r)).to.include('owned by someone else (not stamped by hashiship): deploy refuses it (exit 6)');
  });
});

describe('plan: jobs whose spec was removed (--prune)', () => {
  const owned = [
    { id: 'web', jobModifyIndex: 10 },
    { id: 'old-report', jobModifyIndex: 311 },
    { id: 'billing', jobModifyIndex: 12 },
    { id: 'api', jobModifyIndex: 13 },
  ];
  const p = jobPlan(
    {
      source: 'jobs/services/web.yaml',
      job: { ID: 'web', Type: 'service' },
      exists: true,
      liveVersion: 1,
      ownership: { status: 'owned' },
      preservedCounts: [],
      response: { JobModifyIndex: 10, Diff: { Type: 'None', ID: 'web' } },
    },
    r,
  );

  it('without --prune keeps them: listed first as "not in specs", nothing to stop, no change', () => {
    // Regression: a job without a spec was listed as STOPPED and deploy stopped it, with no flag asked.
    const o = orphanPlan({ environment: 'qa', wanted: ['web', 'billing', 'api'], owned });
    expect(o).to.deep.equal({
      stops: [],
      kept: [{ id: 'old-report', namespace: 'default', jobModifyIndex: 311, reason: 'owned by hashiship in qa; its spec was removed' }],
    });
    const doc = planDocument('qa', [p], o.stops, new Date(0), o);
    expect(doc.summary).to.deep.equal({ create: 0, update: 0, unchanged: 1, stop: 0, kept: 1 });
    expect(doc.changes).to.equal(false);
    expect(planExitCode(doc)).to.equal(0);
    const text = formatPlan(doc, r);
    expect(text.split('\n')[0]).to.equal(
      'old-report: not in specs (kept; --prune to stop)  (namespace default; job modify index 311; owned by hashiship in qa; its spec was removed)',
    );
    expect(text).not.to.include('STOPPED');
    expect(text).to.include('Plan for qa: 0 to create, 0 to update, 0 to stop, 1 unchanged, 1 not in specs (kept).');
  });

  it('with --prune lists them first as stops, sorted, before the jobs', () => {
    const o = orphanPlan({ environment: 'qa', wanted: ['web', 'api'], owned: owned.slice(0, 2).concat([{ id: 'api', jobModifyIndex: 13 }]), prune: true });
    expect(o.stops.map((x) => x.id)).to.deep.equal(['old-report']);
    expect(o.kept).to.deep.equal([]);
    expect(o.refused).to.equal(undefined);
    const doc = planDocument('qa', [p], o.stops, new Date(0), o);
    expect(doc.changes).to.equal(true);
    const lines = formatPlan(doc, r).split('\n');
    expect(lines[0]).to.equal(
      'old-report: will be STOPPED (--prune)  (namespace default; job modify index 311; owned by hashiship in qa; its spec was removed)',
    );
    expect(lines.findIndex((l) => l.startsWith('web: no changes'))).to.be.greaterThan(0);
  });

  it('refuses past the limit: more than one job, or more than half of the jobs hashiship owns there', () => {
    expect(pruneRefusal(0, 0, 'qa')).to.equal(undefined);
    expect(pruneRefusal(1, 2, 'qa')).to.equal(undefined);
    expect(pruneRefusal(1, 4, 'qa')).to.equal(undefined);
    // The only job of an environment: half is exceeded.
    expect(pruneRefusal(1, 1, 'qa')).to.equal(
      '--prune would stop 1 of the 1 job hashiship owns in qa; without --force it stops at most 1 job and at most half of them',
    );
    expect(pruneRefusal(2, 10, 'qa')).to.match(/^--prune would stop 2 of the 10 jobs hashiship owns in qa;/);
    const o = orphanPlan({ environment: 'qa', wanted: ['web'], owned, prune: true });
    expect(o.stops.map((x) => x.id)).to.deep.equal(['api', 'billing', 'old-report']);
    expect(o.refused).to.match(/would stop 3 of the 4 jobs/);
    const text = formatPlan(planDocument('qa', [p], o.stops, new Date(0), o), r);
    expect(text).to.include('  ! deploy refuses these stops (exit 6) unless --force: --prune would stop 3 of the 4 jobs');
  });

  it('never prunes from an empty set, a partial set, and refuses --force alone, before any server is contacted', () => {
    const refused = (input: Parameters<typeof checkPruneInput>[0]) => {
      try {
        checkPruneInput(input);
        return undefined;
      } catch (err) {
        expect(err).to.be.instanceOf(InputError);
        return (err as InputError).message;
      }
    };
    expect(refused({ complete: true, jobs: 0, prune: true })).to.equal(
      '--prune: the set of services is empty; --prune never stops every job of an environment (check --services)',
    );
    expect(refused({ complete: false, jobs: 2, prune: true })).to.match(/^--prune: needs the whole environment/);
    expect(refused({ complete: true, jobs: 2, force: true })).to.match(/^--force: only applies with --prune/);
    expect(refused({ complete: true, jobs: 0 })).to.equal(undefined);
    expect(refused({ complete: true, jobs: 2, prune: true, force: true })).to.equal(undefined);
  });
});
