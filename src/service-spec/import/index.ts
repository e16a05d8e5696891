/**
 * `hashiship import` as one library call: read every source, import each job,
 * split environments, refuse what cannot be written — all before writing —
 * then write every file. Never prints.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { InputError, pathErrorOf, type InputProblem } from '../../errors.js';
import { decodeSpecText } from '../files.js';
import { kindOf } from '../load.js';
import { environmentText, splitEnvironments, verifyEnvironments, type EnvironmentImport } from './environments.js';
import { importJob, specYaml, type ImportedJob } from './import.js';
import type { JobParser, JobSource } from './parse.js';
import { checkWrites, environmentPath, specPath, writeFiles, type PlannedFile } from './write.js';

export { importJob, specYaml, type ImportedJob, type RawField } from './import.js';
export {
  joinVariables,
  nomadParser,
  parseSource,
  ParseFailure,
  undeclaredVariables,
  varFlags,
  type JobParser,
  type JobSource,
  type Variables,
} from './parse.js';
export { clusterSource } from './cluster.js';
export { linkedFolders } from './write.js';
export { jobDifferences, describeDifferences, comparable, type FieldDifference } from './diff.js';

/** Jobs imported at once (each mostly waits on Nomad's parser). */
export const ImportConcurrency = 4;

/** What `hashiship import` is asked to do. */
export interface ImportRequest {
  readonly sources: readonly JobSource[];
  /** Where `services/` and `environments/` are. @default "jobs" */
  readonly out: string;
  /** Environments, one file per job in each, in this order (see {@link ImportRequest.sources}). */
  readonly environments?: readonly string[];
  /** Replace existing specs (and environment entries). */
  readonly force?: boolean;
  /** Compute and check everything, write nothing. */
  readonly dryRun?: boolean;
}

/** What an import did. */
export interface ImportResult {
  readonly jobs: readonly ImportedJob[];
  /** Files written (or that would be, with dryRun). */
  readonly files: readonly PlannedFile[];
  readonly written: readonly string[];
}

/** The largest job file read (Nomad's own jobs are kilobytes; a job over this is refused, not read). */
export const MaxJobFileBytes = 4 << 20;

/**
 * Read job files from disk as sources: regular files only (a FIFO or a device
 * would block or never end), at most {@link MaxJobFileBytes} each.
 * @throws {InputError} naming every file that cannot be read.
 */
export async function readSources(paths: readonly string[]): Promise<JobSource[]> {
  const problems: InputProblem[] = [];
  const out: JobSource[] = [];
  for (const p of paths) {
    try {
      const st = await stat(p);
      if (!st.isFile()) {
        problems.push({ subject: p, message: st.isDirectory() ? 'is a directory; give job files' : 'is not a regular file' });
        continue;
      }
      if (st.size > MaxJobFileBytes) {
        problems.push({ subject: p, message: `is ${st.size} bytes, more than the ${MaxJobFileBytes} a job file may have` });
        continue;
      }
      // Decoded strictly: Latin-1 read as UTF-8 became U+FFFD in names and values without a word.
      const decoded = decodeSpecText(p, await readFile(p));
      if ('problem' in decoded) problems.push(decoded.problem);
      else out.push({ file: p, text: decoded.text });
    } catch (e) {
      const err = pathErrorOf(e);
      if (err === undefined) throw e;
      problems.push(...err.problems);
    }
  }
  if (problems.length > 0) throw new InputError(problems);
  return out;
}

/**
 * Import jobs into specs: every job is imported and checked, every file is
 * computed and refused or accepted, and only then are the files written.
 * @throws {InputError} for a file Nomad cannot parse, a job the spec cannot carry, an existing file without force.
 * @throws {ServerError} when Nomad cannot be reached.
 */
export async function importJobs(req: ImportRequest, parser: JobParser): Promise<ImportResult> {
  // A few jobs at a time: each waits on Nomad's parser most of the time. Results keep the order of the sources.
  const results: (ImportedJob | InputError)[] = new Array<ImportedJob | InputError>(req.sources.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < req.sources.length) {
      const i = next++;
      try {
        results[i] = await importJob(req.sources[i]!, parser);
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        results[i] = e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(ImportConcurrency, req.sources.length) }, worker));
  const problems = results.flatMap((r) => (r instanceof InputError ? r.problems : []));
  if (problems.length > 0) throw new InputError(problems);
  const jobs = results.filter((r): r is ImportedJob => !(r instanceof InputError));
  const envs = req.environments ?? [];
  const files: PlannedFile[] = [];
  const updates: string[] = [];
  if (envs.length <= 1) {
    for (const j of jobs) files.push({ path: specPath(req.out, j.name), text: j.yaml, from: j.source });
  }
  if (envs.length === 1) {
    const env = envs[0]!;
    const path = environmentPath(req.out, env);
    if (!existsSync(path)) files.push({ path, text: environmentText(env, path, undefined, [], true), from: `environment ${env}` });
    await verifyEnvironments(
      [
        ...files.map((f) => ({ file: f.path, text: f.text, kind: kindOf(f.path) })),
        ...(existsSync(path) ? [{ file: path, text: await readFile(path, 'utf8'), kind: 'environment' as const }] : []),
      ],
      jobs.map((job) => ({ env, job })),
      parser,
    );
  }
  if (envs.length > 1) {
    // Files are grouped by job ID; each job has one file per environment, in order.
    const byId = new Map<string, ImportedJob[]>();
    for (const j of jobs) byId.set(j.name, [...(byId.get(j.name) ?? []), j]);
    const wrong = [...byId].filter(([, list]) => list.length !== envs.length);
    if (wrong.length > 0) {
      throw new InputError(
        wrong.map(([id, list]) => ({
          subject: '--env',
          message: `job \`${id}\` has ${list.length} file${list.length === 1 ? '' : 's'} (${list.map((j) => j.source).join(', ')}); with ${envs.length} environments (${envs.join(', ')}) give one file per environment, in that order`,
        })),
      );
    }
    const splits: EnvironmentImport[] = [...byId.values()].map((list) => splitEnvironments(envs, list));
    for (const s of splits) {
      const first = byId.get(s.name)![0]!;
      files.push({ path: specPath(req.out, s.name), text: specYaml(s.spec, first.source), from: first.source });
    }
    for (const env of envs) {
      const path = environmentPath(req.out, env);
      const existing = existsSync(path) ? await readFile(path, 'utf8') : undefined;
      files.push({ path, text: environmentText(env, path, existing, splits, req.force === true), from: `environment ${env}` });
      if (existing !== undefined) updates.push(path);
    }
    await verifyEnvironments(
      files.map((f) => ({ file: f.path, text: f.text, kind: kindOf(f.path) })),
      envs.flatMap((env, i) => [...byId.values()].map((list) => ({ env, job: list[i]! }))),
      parser,
    );
  }
  checkWrites(files, { force: req.force === true, updates });
  const written = req.dryRun === true ? [] : await writeFiles(files);
  return { jobs, files, written };
}
