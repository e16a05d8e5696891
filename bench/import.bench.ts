/**
 * `hashiship import` of 1,000 jobs: the corpus (test/fixtures/import-corpus)
 * repeated under new job IDs, imported in one process against the dev stack's
 * Nomad (every job parsed, lifted, rendered and parsed again until it equals the
 * original; nothing written). Peers: Nomad's own `/v1/jobs/parse` over the same
 * 1,000 files, once each — the least any import through Nomad's parser does (API JSON written as HCL first) — and
 * the `nomad` binary's own offline parse (`nomad job run -output`, one process
 * per file, as a script converting jobs would run it) per file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClients } from '../src/clients.js';
import { importJobs, nomadParser, parseSource, type JobSource } from '../src/service-spec/import/index.js';
import { run } from '../src/stack/proc.js';
import { benchStack, size, type Benchmark, type Figure } from './harness.js';

const COUNT = size(1000, 40);
const BINARY_SAMPLE = size(100, 5);
const CORPUS = 'test/fixtures/import-corpus';
const count = COUNT.toLocaleString('en-US');

/** 1,000 job files: the corpus again and again, each copy under its own job ID. */
function dataset(): JobSource[] {
  const files = readdirSync(CORPUS).sort();
  const out: JobSource[] = [];
  for (let i = 0; i < COUNT; i++) {
    const name = files[i % files.length]!;
    const text = readFileSync(join(CORPUS, name), 'utf8');
    const suffix = `-${String(i).padStart(4, '0')}`;
    if (name.endsWith('.json')) {
      const doc = JSON.parse(text) as { Job?: Record<string, unknown> } & Record<string, unknown>;
      const job = doc.Job ?? doc;
      job['ID'] = `${String(job['ID'])}${suffix}`;
      if (typeof job['Name'] === 'string') job['Name'] = job['ID'];
      out.push({ file: `${i}-${name}`, text: JSON.stringify(doc) });
    } else {
      out.push({ file: `${i}-${name}`, text: text.replace(/^job "([^"]+)"/m, (_m, id: string) => `job "${id}${suffix}"`) });
    }
  }
  return out;
}

const bench: Benchmark = {
  name: 'import',
  async run() {
    const stack = await benchStack();
    const client = createClients(stack.config).nomad.client;
    let parses = 0;
    const inner = nomadParser(client);
    const parser = { parse: (hcl: string) => (parses++, inner.parse(hcl)) };
    const sources = dataset();
    await parseSource(sources[0]!, inner); // connection warm-up, not measured
    const dir = await mkdtemp(join(tmpdir(), 'hashiship-bench-import-'));
    try {
      const t0 = process.hrtime.bigint();
      const result = await importJobs({ sources, out: dir, dryRun: true }, parser);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (result.jobs.length !== COUNT) throw new Error(`bench: ${result.jobs.length} of ${COUNT} jobs imported`);

      // Peer 1: Nomad's parser over the same files, once each.
      const p0 = process.hrtime.bigint();
      for (const s of sources) await parseSource(s, inner);
      const parseSeconds = Number(process.hrtime.bigint() - p0) / 1e9;

      // Peer 2: the nomad binary's offline parse, one process per file.
      const nomad = join(stack.env['HASHISHIP_STACK_BIN']!.split(':').find((d) => d.includes('nomad')) ?? '', 'nomad');
      const hclSources = sources.filter((s) => !s.file.endsWith('.json')).slice(0, BINARY_SAMPLE);
      const b0 = process.hrtime.bigint();
      for (const s of hclSources) {
        const f = join(dir, 'job.nomad.hcl');
        await writeFile(f, s.text);
        const r = await run(nomad, ['job', 'run', '-output', f], { env: { ...process.env, NOMAD_ADDR: 'http://127.0.0.1:1' }, timeoutMs: 60_000 });
        if (r.code !== 0) throw new Error(`bench: nomad job run -output ${s.file}: ${r.stderr}`);
      }
      const binaryMs = Number(process.hrtime.bigint() - b0) / 1e6 / hclSources.length;

      const figures: Figure[] = [
        {
          label: `import ${count} jobs (Nomad parse, typed lift, render, parse again until equal; nothing written)`,
          value: seconds,
          unit: 's',
          peer: { name: `nomad /v1/jobs/parse ×${count}`, value: parseSeconds },
        },
        {
          label: 'import, per job',
          value: (seconds * 1000) / COUNT,
          unit: 'ms',
          peer: { name: `nomad job run -output (binary, one process per file, mean of ${hclSources.length})`, value: binaryMs },
        },
        { label: 'Nomad parses per imported job (original + renderings)', value: parses / COUNT, unit: 'parses' },
      ];
      return figures;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
export default bench;
