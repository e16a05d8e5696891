/**
 * Proof against the real parser: every example (qa and production) and every
 * golden fixture is parsed by Nomad (`/v1/jobs/parse`) and must equal our JSON
 * model field by field; canonicalized, it must pass `/v1/validate/job`, and so
 * must our JSON model itself; `nomad fmt -check` must find nothing to change.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { NomadClient } from '../../src/nomad/client.js';
import { Jobs } from '../../src/nomad/jobs.js';
import { renderAll, type RenderedJob } from '../../src/nomad/render.js';
import { readSpecFiles } from '../../src/service-spec/files.js';
import { loadSet, resolveEnvironment } from '../../src/service-spec/load.js';
import { renderGoldenCase } from '../helpers/spec-golden.js';
import { compareJobs, fmtCheck, nomadBinary, parseWithNomad, validateWithNomad } from '../helpers/spec-nomad.js';
import { useStack, type TestStack } from '../helpers/stack.js';

describe('rendered jobs against the real Nomad', function () {
  let stack: TestStack;
  let nomad: NomadClient;
  const jobs: { label: string; job: RenderedJob }[] = [];

  before(async function () {
    this.timeout(40 * 60_000);
    stack = await useStack();
    nomad = stack.clients.nomad.client;
    const set = loadSet(await readSpecFiles(['jobs/services', 'jobs/environments']));
    for (const env of ['qa', 'production']) {
      for (const job of renderAll(resolveEnvironment(set, env))) jobs.push({ label: `${env}/${job.name}`, job });
    }
    for (const name of readdirSync('test/fixtures/golden').sort()) {
      jobs.push({ label: `golden/${name}`, job: (await renderGoldenCase(join('test/fixtures/golden', name))).rendered });
    }
  });

  it('covers every example in both environments and every golden fixture', () => {
    expect(jobs.length).to.equal(10 * 2 + readdirSync('test/fixtures/golden').length);
  });

  it('parses every output with /v1/jobs/parse into exactly our JSON model', async function () {
    this.timeout(120_000);
    for (const { label, job } of jobs) {
      const parsed = await parseWithNomad(nomad, job.hcl, false);
      expect(compareJobs(job.job, parsed), label).to.deep.equal([]);
    }
  });

  it('validates every canonicalized parse and every JSON model with /v1/validate/job', async function () {
    this.timeout(120_000);
    // Nomad refuses jobs in namespaces that do not exist: create those the jobs use (an upsert).
    for (const ns of new Set(jobs.map((j) => j.job.job.Namespace))) {
      if (ns === 'default') continue;
      await nomad.request('namespace.apply', { method: 'POST', path: `/v1/namespace/${ns}`, data: { Name: ns, Description: 'hashiship render tests' } });
    }
    // Likewise node pools other than the built-in ones.
    for (const pool of new Set(jobs.map((j) => j.job.job.NodePool).filter((p) => p !== undefined && p !== 'default' && p !== 'all'))) {
      await nomad.request('node.pool.apply', { method: 'POST', path: '/v1/node/pools', data: { Name: pool, Description: 'hashiship render tests' } });
    }
    for (const { label, job } of jobs) {
      const canonical = await parseWithNomad(nomad, job.hcl, true);
      expect(canonical['ID'], label).to.equal(job.job.ID);
      for (const [what, candidate] of [
        ['canonical parse', canonical],
        ['JSON model', job.job],
      ] as const) {
        const v = await validateWithNomad(nomad, candidate);
        expect({ errors: v.ValidationErrors ?? [], error: v.Error }, `${label} (${what})`).to.deep.equal({ errors: [], error: '' });
      }
    }
  });

  it('finds nothing for nomad fmt -check to change in jobs/generated and the golden files', async function () {
    this.timeout(60_000);
    const nomadBin = nomadBinary(stack.env);
    const committed = await fmtCheck(nomadBin, ['jobs/generated', 'test/fixtures/golden']);
    expect(committed).to.deep.equal({ code: 0, files: [], stderr: '' });
    // And on a fresh render, so the check does not depend on committed files.
    const dir = await mkdtemp(join(tmpdir(), 'hashiship-fmt-'));
    try {
      for (const { label, job } of jobs) await writeFile(join(dir, `${label.replace('/', '-')}.nomad.hcl`), job.hcl);
      expect(await fmtCheck(nomadBin, [dir])).to.deep.equal({ code: 0, files: [], stderr: '' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("shows escape-hatch fields in Nomad's plan diff like any other field (golden shop.api)", async function () {
    this.timeout(60_000);
    // Issue 12: the plan diffs the merged API JSON, so raw `nomad:` fields show without special handling.
    const { job } = jobs.find((j) => j.label === 'golden/shop.api')!;
    const plan = await new Jobs(nomad).plan(job.job);
    const diff = plan.Diff!;
    const fields = (d: { readonly Fields?: readonly { Name: string; New: string }[] | null } | undefined) =>
      Object.fromEntries((d?.Fields ?? []).map((f) => [f.Name, f.New]));
    const api = diff.TaskGroups!.find((g) => g.Name === 'api')!;
    expect(fields(api.Objects?.find((o) => o.Name === 'Disconnect'))).to.include({ LostAfter: '3600000000000', Reconcile: 'best_score' });
    const task = api.Tasks!.find((t) => t.Name === 'api')!;
    expect(fields(task.Objects?.find((o) => o.Name === 'Resources'))).to.include({ Cores: '1' });
    expect(fields(task)).to.include({ ShutdownDelay: '3000000000' });
    expect(fields(diff.Objects?.find((o) => o.Name === 'UI'))).to.include({ Description: 'Shop API' });
  });

  it("canonicalizes the typed fields as Nomad's defaults say (golden typed)", async function () {
    this.timeout(30_000);
    // Issue 12: what the spec leaves out is Nomad's to fill in: a check's on_update follows its service's.
    const { job } = jobs.find((j) => j.label === 'golden/typed')!;
    const canonical = (await parseWithNomad(nomad, job.hcl, true)) as {
      TaskGroups: { Services: { OnUpdate: string; Checks: { Name?: string; OnUpdate: string }[] }[] }[];
    };
    const web = canonical.TaskGroups[0]!.Services[0]!;
    expect(web.OnUpdate).to.equal('ignore_warnings');
    expect(web.Checks.map((c) => [c.Name ?? '', c.OnUpdate])).to.deep.equal([
      ['', 'ignore'],
      ['web-tcp', 'ignore_warnings'],
    ]);
  });

  it('detects a mismatch: a changed model no longer equals what Nomad parsed', async () => {
    // Guards the comparison itself: it must fail when the HCL and the JSON disagree.
    const { job } = jobs[0]!;
    const parsed = await parseWithNomad(nomad, job.hcl, false);
    const changed = { ...job.job, Priority: job.job.Priority + 1 };
    expect(compareJobs(changed, parsed)).to.deep.equal([`Job.Priority: ours ${job.job.Priority + 1}, Nomad's ${job.job.Priority}`]);
  });
});
