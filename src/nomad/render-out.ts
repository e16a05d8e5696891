/**
 * Writing rendered jobs into a folder (`hashiship render --out`): one file per
 * job, never through a symbolic link nor outside the folder, a new file created
 * exclusively and an existing one replaced by renaming a complete temporary file
 * over it (a failed run removes what it created), and — for a whole
 * environment — the files hashiship wrote there for jobs no longer rendered
 * removed. Nothing is written when any target is refused.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, lstatSync, openSync, readdirSync, renameSync, rmSync, writeFileSync, type Dirent, type Stats } from 'node:fs';
import { lstat, mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { parseHcl } from '../hcl/parser.js';
import { OwnershipMeta } from './job.js';
import type { RenderedJob } from './render.js';

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

/** The file name and text of a rendered job in a format. */
export function jobFile(r: RenderedJob, format: JobFileFormat): JobFile {
  return format === 'hcl' ? { name: `${r.name}.nomad.hcl`, text: r.hcl } : { name: `${r.name}.json`, text: `${JSON.stringify({ Job: r.job }, null, 2)}\n` };
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
  const e = err as NodeJS.ErrnoException;
  return new InputError([{ subject: path, message: `cannot ${what}: ${e.code ?? ''}${e.code === undefined ? '' : ' '}${e.message.replace(/^[A-Z]+: /, '')}` }]);
}

function lstatSyncOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fsError(path, 'inspect it', err);
  }
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
 * The folder `--out` names, created when missing.
 * @throws {InputError} when it is a file, a symbolic link or anything but a folder.
 */
async function outFolder(dir: string): Promise<void> {
  const subject = `--out=${JSON.stringify(dir)}`;
  let st = await lstatOrUndefined(dir);
  if (st === undefined) {
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw fsError(subject, 'create the folder', err);
    }
    st = await lstatOrUndefined(dir);
  }
  if (st === undefined || st.isDirectory()) return;
  const what = st.isSymbolicLink() ? 'a symbolic link' : st.isFile() ? 'a file' : 'not a folder';
  throw new InputError([{ subject, message: `is ${what}; give a folder (hashiship writes only into a real folder, never through a link)` }]);
}

/** What a folder entry is, in a refusal's words; undefined for a regular file. */
function notRegular(st: Pick<Stats, 'isFile' | 'isSymbolicLink' | 'isDirectory'>): string | undefined {
  if (st.isFile()) return undefined;
  return st.isSymbolicLink() ? 'a symbolic link' : st.isDirectory() ? 'a folder' : 'not a regular file';
}

function refuseTarget(target: string, what: string): InputError {
  return new InputError([
    { subject: target, message: `is ${what}; hashiship writes only regular files and never through a link: remove it or choose another --out` },
  ]);
}

/** Write all of `text` to a descriptor and close it. */
function writeAndClose(fd: number, path: string, text: string): void {
  try {
    writeFileSync(fd, text);
  } catch (err) {
    throw fsError(path, 'write', err);
  } finally {
    closeSync(fd);
  }
}

/**
 * Write the files into `dir` (created when missing). A file whose name is free
 * is created there exclusively (never an existing path, a link planted at the
 * name included); a file that exists is replaced by renaming a complete
 * temporary file over it. When anything fails, the files this call created and
 * its temporary files are removed, so a failed run leaves no new or partial
 * file. With `removeStale`, then remove the files of this format that hashiship
 * wrote for this environment and that `files` does not name (regular files
 * only; never when `files` is empty).
 * @throws {InputError} when `dir` is a file or a symbolic link, a name is not a
 * plain file name, a target exists as anything but a regular file (a symbolic
 * link, a folder), or the file system refuses; nothing is written then.
 */
export async function writeJobFiles(dir: string, files: readonly JobFile[], opts: WriteJobFilesOptions): Promise<WriteJobFilesResult> {
  for (const f of files) checkName(f.name);
  const names = new Set(files.map((f) => f.name));
  if (names.size !== files.length) {
    const dup = files.find((f, i) => files.findIndex((g) => g.name === f.name) !== i)!;
    throw new InputError([{ subject: dup.name, message: 'two jobs would be written to the same file' }]);
  }
  await outFolder(dir);
  // One listing of the folder instead of a stat per target: each system call costs about 12 µs on the
  // machines measured here, and a file's writing was five of them (stat, open, write, close, rename).
  let entries: Map<string, Dirent>;
  try {
    entries = new Map(readdirSync(dir, { withFileTypes: true }).map((e) => [e.name, e]));
  } catch (err) {
    throw fsError(dir, 'list the folder', err);
  }
  const existing = new Set<string>();
  for (const f of files) {
    const entry = entries.get(f.name);
    if (entry === undefined) continue;
    const target = join(dir, f.name);
    // A file system that does not say an entry's type (DT_UNKNOWN) is asked with lstat.
    const typed = entry.isFile() || entry.isSymbolicLink() || entry.isDirectory() ? entry : lstatSyncOrUndefined(target);
    if (typed === undefined) continue;
    const what = notRegular(typed);
    if (what !== undefined) throw refuseTarget(target, what);
    existing.add(f.name);
  }
  // Synchronous calls: six thread-pool round trips per file were most of the time 1,000 files took.
  // The files are not synced to disk one by one (1,000 fsyncs took 4.2 s here, 30 times the rest of the
  // writing): they are derived from the specs and `render` writes them again. A new file is created in
  // place (three calls); a file that exists is replaced by a rename, so a reader never sees it half
  // written, and ext4 orders a replacing rename after the data.
  const created: string[] = [];
  const temps: { temp: string; target: string }[] = [];
  let done = false;
  try {
    for (const f of files) {
      const target = join(dir, f.name);
      if (!existing.has(f.name)) {
        let fd: number | undefined;
        try {
          // O_EXCL: create a new file, never open an existing path (a link planted at the name included).
          fd = openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fsError(target, 'create', err);
          // It appeared since the listing (or the file system folds case): judged and replaced as an existing file.
          const st = lstatSyncOrUndefined(target);
          const what = st === undefined ? undefined : notRegular(st);
          if (what !== undefined) throw refuseTarget(target, what);
        }
        if (fd !== undefined) {
          created.push(target);
          writeAndClose(fd, target, f.text);
          continue;
        }
      }
      const temp = join(dir, `.${f.name}.${randomBytes(6).toString('hex')}.tmp`);
      let fd: number;
      try {
        fd = openSync(temp, 'wx', 0o644);
      } catch (err) {
        throw fsError(temp, 'create a temporary file', err);
      }
      temps.push({ temp, target });
      writeAndClose(fd, temp, f.text);
    }
    while (temps.length > 0) {
      const t = temps[0]!;
      try {
        renameSync(t.temp, t.target);
      } catch (err) {
        throw fsError(t.target, 'replace', err);
      }
      temps.shift();
    }
    done = true;
  } finally {
    for (const t of temps) rmSync(t.temp, { force: true });
    if (!done) for (const path of created) rmSync(path, { force: true });
  }
  const written = files.map((f) => join(dir, f.name));
  if (opts.removeStale !== true || files.length === 0) return { written, removed: [] };
  const removed: string[] = [];
  const suffix = jobFileSuffix(opts.format);
  // The listing taken before writing: what this call wrote is not stale, and it named every file it wrote.
  for (const name of [...entries.keys()].sort()) {
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
