/**
 * Writing rendered jobs into a folder (`hashiship render --out`): one file per
 * job, never through a symbolic link nor outside the folder, each file written
 * to a temporary file beside it and renamed into place, and — for a whole
 * environment — the files hashiship wrote there for jobs no longer rendered
 * removed. Nothing is written when any target is refused.
 */
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, rm, rmdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { InputError } from '../errors.js';
import { parseHcl } from '../hcl/parser.js';
import { OwnershipMeta } from './job.js';
import type { ResolvedService } from '../service-spec/overlay.js';
import { renderJob } from './render.js';
import { renderJobHcl } from './render-hcl.js';

/** The two formats `render` writes. */
export type JobFileFormat = 'hcl' | 'json';

/** One file to write: a bare file name (no folder) and its text. */
export interface JobFile {
  readonly name: string;
  readonly text: string;
}

/** What {@link writeJobFiles} did, as paths inside the folder. */
export interface WriteJobFilesResult {
  readonly written: readonly string[];
  readonly removed: readonly string[];
}

/** Options of {@link writeJobFiles}. */
export interface WriteJobFilesOptions {
  readonly format: JobFileFormat;
  /** The environment the jobs were rendered for: only its files count as hashiship's. */
  readonly environment: string;
  /**
   * Remove the files hashiship wrote for this environment and format that are
   * not among `files` (the inputs are a whole environment). Never removes
   * anything when `files` is empty. @default false
   */
  readonly removeStale?: boolean;
}

/** Files larger than this are never read to judge ownership (a job file is a few KiB). */
const MaxOwnedFileBytes = 4 * 1024 * 1024;

/** The file name suffix of a format. */
export function jobFileSuffix(format: JobFileFormat): string {
  return format === 'hcl' ? '.nomad.hcl' : '.json';
}

/**
 * The files of the services' jobs in a format, each job rendered only when its
 * file is asked for (so {@link writeJobFiles} writes one while the next renders).
 */
export function* jobFiles(services: Iterable<ResolvedService>, format: JobFileFormat): Generator<JobFile> {
  for (const r of services) {
    const job = renderJob(r);
    yield format === 'hcl'
      ? { name: `${job.ID}.nomad.hcl`, text: renderJobHcl(job) }
      : { name: `${job.ID}.json`, text: `${JSON.stringify({ Job: job }, null, 2)}\n` };
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `Meta` of the one job in a file's text, with its ID; undefined when the text is not exactly one job. */
function jobMeta(text: string, format: JobFileFormat): { id: string; meta: Record<string, unknown> } | undefined {
  if (format === 'json') {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      return undefined;
    }
    const job = isRecord(doc) && isRecord(doc['Job']) ? doc['Job'] : undefined;
    if (job === undefined || typeof job['ID'] !== 'string' || !isRecord(job['Meta'])) return undefined;
    return { id: job['ID'], meta: job['Meta'] };
  }
  let doc: Record<string, unknown>;
  try {
    doc = parseHcl(text);
  } catch {
    return undefined;
  }
  const jobs = doc['job'];
  if (!isRecord(jobs) || Object.keys(doc).length !== 1) return undefined;
  const ids = Object.keys(jobs);
  if (ids.length !== 1) return undefined;
  const bodies = jobs[ids[0]!];
  const body = Array.isArray(bodies) && bodies.length === 1 ? (bodies[0] as unknown) : undefined;
  const metas = isRecord(body) ? body['meta'] : undefined;
  const meta = Array.isArray(metas) && metas.length === 1 ? (metas[0] as unknown) : undefined;
  return isRecord(meta) ? { id: ids[0]!, meta } : undefined;
}

/**
 * Whether a job file's text is one that hashiship wrote for `environment`:
 * one job, named as the file is (`<id>.nomad.hcl`, `<id>.json`), whose meta
 * says `hashiship_tool = "hashiship"` and `hashiship_environment = <environment>`.
 * Hand-written jobs, jobs of another environment and unparsable files are not.
 */
export function ownedJobFile(name: string, text: string, format: JobFileFormat, environment: string): boolean {
  const found = jobMeta(text, format);
  return (
    found !== undefined &&
    `${found.id}${jobFileSuffix(format)}` === name &&
    found.meta[OwnershipMeta.tool] === 'hashiship' &&
    found.meta[OwnershipMeta.environment] === environment
  );
}

/**
 * A bare file name: no folder separator, not `.`/`..`, not hidden, no control characters.
 * @throws {InputError} otherwise.
 */
function checkName(name: string): void {
  // eslint-disable-next-line no-control-regex
  if (name === '' || name.startsWith('.') || /[/\\\u0000-\u001f\u007f]/.test(name)) {
    throw new InputError([
      { subject: JSON.stringify(name), message: 'not a plain file name (a job ID becomes a file name: no `/`, `\\`, leading `.` or control characters)' },
    ]);
  }
}

function fsError(path: string, what: string, err: unknown): InputError {
  const e = err as { code?: string; message: string };
  return new InputError([{ subject: path, message: `cannot ${what}: ${e.code ?? ''}${e.code === undefined ? '' : ' '}${e.message.replace(/^[A-Z]+: /, '')}` }]);
}

async function lstatOrUndefined(path: string) {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fsError(path, 'inspect it', err);
  }
}

/**
 * The text of a regular file of at most {@link MaxOwnedFileBytes}; undefined for
 * anything else — a link (whatever it points to), a folder, a FIFO (reading one
 * would block) — opened without following links and without blocking.
 */
async function readRegularFile(path: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOENT' || code === 'ENXIO') return undefined;
    throw fsError(path, 'read', err);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile() || st.size > MaxOwnedFileBytes) return undefined;
    return await handle.readFile('utf8');
  } catch (err) {
    throw fsError(path, 'read', err);
  } finally {
    await handle.close();
  }
}

/**
 * The folder `--out` names, created when missing; returns the first folder it
 * created (`dir` or one of its parents), undefined when `dir` existed.
 * @throws {InputError} when it is a file, a symbolic link or anything but a folder.
 */
async function outFolder(dir: string): Promise<string | undefined> {
  const subject = `--out=${JSON.stringify(dir)}`;
  let st = await lstatOrUndefined(dir);
  let created: string | undefined;
  if (st === undefined) {
    try {
      created = await mkdir(dir, { recursive: true });
    } catch (err) {
      throw fsError(subject, 'create the folder', err);
    }
    st = await lstatOrUndefined(dir);
  }
  if (st === undefined || st.isDirectory()) return created;
  const what = st.isSymbolicLink() ? 'a symbolic link' : st.isFile() ? 'a file' : 'not a folder';
  throw new InputError([{ subject, message: `is ${what}; give a folder (hashiship writes only into a real folder, never through a link)` }]);
}

/** Remove the folders {@link outFolder} created, from `dir` up to `first`, each only while empty. */
async function removeCreated(dir: string, first: string): Promise<void> {
  const top = resolve(first);
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      await rmdir(d);
    } catch {
      return;
    }
    if (d === top || dirname(d) === d) return;
  }
}

/**
 * The thread that creates, writes and renames the files while the main thread
 * is still rendering the next jobs (plain CommonJS, run with `eval`: it works
 * the same under the tests' TypeScript loader and in dist/). Creating a file was
 * the largest single cost of `render --out` for 1,000 jobs (kernel time, about a
 * third of the run): on its own thread it overlaps the rendering.
 *
 * Messages in: `{ file: { name, text } }`, then `{ end: true }` or `{ abort: true }`.
 * It checks each target with lstat (anything but a missing path or a regular file
 * is refused), writes each file to a new temporary file beside it (`wx`: never
 * opens an existing path), and on `end` renames every temporary file over its
 * target; on a refusal, a file-system error or `abort` it removes the temporary
 * files it made. One message out: `{ written: n }` or `{ error }`; a refusal also
 * sets `stop[0]` so the main thread stops rendering early.
 */
const writerThread = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { join } = require('node:path');
const { randomBytes } = require('node:crypto');
const { dir, stop } = workerData;
const temps = [];
let error;
function fail(e) {
  error = e;
  Atomics.store(stop, 0, 1);
}
function write(f) {
  const target = join(dir, f.name);
  let st;
  try {
    st = fs.lstatSync(target);
  } catch (err) {
    if (err.code !== 'ENOENT') return fail({ path: target, what: 'inspect it', code: err.code, message: err.message });
  }
  if (st !== undefined && !st.isFile()) {
    const what = st.isSymbolicLink() ? 'a symbolic link' : st.isDirectory() ? 'a folder' : 'not a regular file';
    return fail({ refused: target, what });
  }
  const temp = join(dir, '.' + f.name + '.' + randomBytes(6).toString('hex') + '.tmp');
  let fd;
  try {
    fd = fs.openSync(temp, 'wx', 0o644);
  } catch (err) {
    return fail({ path: temp, what: 'create a temporary file', code: err.code, message: err.message });
  }
  temps.push({ temp, target });
  try {
    fs.writeFileSync(fd, f.text);
  } catch (err) {
    fail({ path: temp, what: 'write', code: err.code, message: err.message });
  } finally {
    fs.closeSync(fd);
  }
}
function commit() {
  while (temps.length > 0) {
    const t = temps[0];
    try {
      fs.renameSync(t.temp, t.target);
    } catch (err) {
      return fail({ path: t.target, what: 'replace', code: err.code, message: err.message });
    }
    temps.shift();
  }
}
parentPort.on('message', (m) => {
  if (m.file !== undefined) {
    if (error === undefined) write(m.file);
    return;
  }
  if (m.end === true && error === undefined) commit();
  for (const t of temps) fs.rmSync(t.temp, { force: true });
  parentPort.postMessage(error === undefined ? { written: true } : { error });
  parentPort.close();
});
`;

/** What the writer thread reports. */
type WriterError = { refused: string; what: string } | { path: string; what: string; code?: string; message: string };

/** The writer thread for `dir`: `post` a file, then `finish` once (commit or abort); it ends itself. */
function startWriter(dir: string) {
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(writerThread, { eval: true, workerData: { dir, stop } });
  const exited = new Promise<void>((resolvePromise) => worker.once('exit', () => resolvePromise()));
  const reply = new Promise<{ written?: true; error?: WriterError }>((resolvePromise, reject) => {
    worker.once('message', resolvePromise);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`render-out: the writer thread exited (${code}) without a reply`)));
  });
  return {
    /** Whether the thread has refused a target or failed (nothing more will be written). */
    stopped: () => Atomics.load(stop, 0) !== 0,
    post: (file: JobFile) => worker.postMessage({ file }),
    async finish(commit: boolean): Promise<void> {
      worker.postMessage(commit ? { end: true } : { abort: true });
      const r = await reply;
      await exited;
      const e = r.error;
      if (e === undefined) return;
      if ('refused' in e) {
        throw new InputError([
          { subject: e.refused, message: `is ${e.what}; hashiship writes only regular files and never through a link: remove it or choose another --out` },
        ]);
      }
      throw fsError(e.path, e.what, e);
    },
  };
}

/**
 * Write the files into `dir` (created when missing): every file to a temporary
 * file in `dir`, then — once `files` is exhausted and every target accepted —
 * each renamed over its target, so a failure leaves no partial file. `files`
 * may be lazy (a generator that renders each job as it is asked for): the
 * writing happens on another thread while the next file is produced. With
 * `removeStale`, then remove the files of this format that hashiship wrote for
 * this environment and that `files` does not name (regular files only; never
 * when `files` is empty).
 * @throws {InputError} when `dir` is a file or a symbolic link, a name is not a
 * plain file name or is given twice, a target exists as anything but a regular
 * file (a symbolic link, a folder), or the file system refuses; nothing is
 * written then (temporary files are removed, and the folder when this call
 * created it). Whatever `files` throws is rethrown the same way.
 */
export async function writeJobFiles(dir: string, files: Iterable<JobFile>, opts: WriteJobFilesOptions): Promise<WriteJobFilesResult> {
  const names = new Set<string>();
  const written: string[] = [];
  let writer: ReturnType<typeof startWriter> | undefined;
  let created: string | undefined;
  try {
    for (const f of files) {
      checkName(f.name);
      if (names.has(f.name)) throw new InputError([{ subject: f.name, message: 'two jobs would be written to the same file' }]);
      names.add(f.name);
      if (writer === undefined) {
        created = await outFolder(dir);
        writer = startWriter(dir);
      }
      if (writer.stopped()) break;
      writer.post(f);
      written.push(join(dir, f.name));
    }
  } catch (err) {
    await writer?.finish(false).catch(() => undefined);
    if (created !== undefined) await removeCreated(dir, created);
    throw err;
  }
  if (writer === undefined) await outFolder(dir);
  try {
    await writer?.finish(true);
  } catch (err) {
    if (created !== undefined) await removeCreated(dir, created);
    throw err;
  }
  // The files are not synced to disk one by one (1,000 fsyncs took 4.2 s here, 30 times the rest of the
  // writing): they are derived from the specs and `render` writes them again; the temporary file and the
  // rename keep a failed run from leaving a partial file, and ext4 orders a replacing rename after the data.
  if (opts.removeStale !== true || written.length === 0) return { written, removed: [] };
  const removed: string[] = [];
  const suffix = jobFileSuffix(opts.format);
  for (const name of (await readdir(dir)).sort()) {
    if (!name.endsWith(suffix) || names.has(name) || name.startsWith('.')) continue;
    const path = join(dir, name);
    const text = await readRegularFile(path);
    if (text === undefined || !ownedJobFile(name, text, opts.format, opts.environment)) continue;
    await rm(path).catch((err: unknown) => {
      throw fsError(path, 'remove', err);
    });
    removed.push(path);
  }
  return { written, removed };
}
