/**
 * Reading spec files from disk: the only I/O of the spec area. Directories are
 * read recursively for `.yaml`/`.yml` files, in sorted order. Only regular files
 * are read (a FIFO would block every command), and a symbolic link in a folder only
 * when it leads to a regular `.yaml`/`.yml` file; each file at most
 * {@link SpecLimits.fileBytes} bytes, as UTF-8; entries skipped for their name are
 * named in {@link SpecFiles.skipped}, and a set without any service spec is an
 * error unless `allowEmpty` is set (an empty set would make `render --out` and
 * `plan` treat every job as deleted).
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Dirent, type Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { InputError, type InputProblem } from '../errors.js';
import { SpecLimits } from './check.js';
import { kindOf, type SpecFile } from './load.js';

export { SpecLimits } from './check.js';

/** Where specs live unless told otherwise. */
export const DefaultPaths = {
  services: 'jobs/services',
  environments: 'jobs/environments',
  generated: 'jobs/generated',
} as const;

/** A directory entry that was not read, and why. */
export interface SkippedEntry {
  readonly path: string;
  readonly reason: string;
}

/** The files read, and the entries of the directories that were skipped. */
export type SpecFiles = SpecFile[] & {
  /** Entries inside the given directories named like specs (`web.YAML`, `web.yml.bak`) but not read, in order. */
  readonly skipped: readonly SkippedEntry[];
};

export interface ReadOptions {
  /**
   * Accept a set without any service spec (only environments, or nothing at all).
   * @default false
   */
  readonly allowEmpty?: boolean;
}

const SPEC_NAME = /\.ya?ml$/;

function typeOf(s: Stats | Dirent): string {
  if (s.isFIFO()) return 'a FIFO';
  if (s.isSocket()) return 'a socket';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isDirectory()) return 'a directory';
  return 'not a regular file';
}

function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'ELOOP':
      return 'a symbolic link loop (the link points back to itself)';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENAMETOOLONG':
      return 'the path is too long';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'EISDIR':
      return 'is a directory';
    default:
      return `cannot be read (${code ?? (err instanceof Error ? err.message : String(err))})`;
  }
}

/**
 * Why a symbolic link in a spec folder is not followed, if it is not. A link is read
 * only when it leads to a regular file named `*.yaml` or `*.yml` (a spec kept
 * elsewhere in the repository); a link to a directory, a device or any other file is
 * an error naming where it points, and nothing is read from there. A folder checked
 * out from a repository decides where its links point: `web.yaml -> /etc/shadow` must
 * not be read as a spec, whose lines would then show in "unknown key" messages, and a
 * link to a folder would read every `*.yaml` below it. A link not named like a spec
 * to anything but a folder is skipped like any other file that is not a spec.
 */
function linkProblem(entry: string, target: string, st: Stats): string | undefined {
  const why = 'in a spec folder only links to regular files named *.yaml or *.yml are followed';
  if (st.isDirectory()) return `is a symbolic link to the directory ${target}; ${why}`;
  if (!SPEC_NAME.test(entry)) return undefined;
  if (!st.isFile()) return `is a symbolic link to ${target}, which is ${typeOf(st)}; ${why}`;
  if (!SPEC_NAME.test(basename(target))) return `is a symbolic link to ${target}, a file not named *.yaml or *.yml; ${why}`;
  return undefined;
}

interface Walk {
  readonly files: string[];
  readonly skipped: SkippedEntry[];
  readonly problems: InputProblem[];
}

async function expandDir(path: string, w: Walk): Promise<void> {
  let entries: Dirent[];
  try {
    entries = (await readdir(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (err) {
    w.problems.push({ subject: path, message: fsReason(err) });
    return;
  }
  for (const dirent of entries) {
    const entry = dirent.name;
    const p = join(path, entry);
    // The entry's own type when it is a file or a directory (no system call per file); a link is followed only to a
    // spec file (no folder is read twice through a link, so no loop of folders), anything else is looked at.
    let st: Stats | Dirent = dirent;
    if (!dirent.isFile() && !dirent.isDirectory()) {
      try {
        st = await stat(p);
        if (dirent.isSymbolicLink()) {
          const refused = linkProblem(entry, await realpath(p), st);
          if (refused !== undefined) {
            w.problems.push({ subject: p, message: refused });
            continue;
          }
        }
      } catch (err) {
        w.problems.push({ subject: p, message: fsReason(err) });
        continue;
      }
    }
    if (st.isDirectory()) await expandDir(p, w);
    else if (!SPEC_NAME.test(entry)) {
      // Named like a spec but not read (web.YAML, web.yml.bak, web.yaml~): say so; other files (README.md) are not specs.
      if (/\.ya?ml/i.test(entry))
        w.skipped.push({
          path: p,
          reason: /\.ya?ml$/i.test(entry) ? 'the extension must be .yaml or .yml in lower case' : 'the name does not end in .yaml or .yml',
        });
    }
    // A spec-named entry that cannot be read as a file is an error: skipping it would drop a service.
    else if (!st.isFile()) w.problems.push({ subject: p, message: `is ${typeOf(st)}, not a regular file; spec files must be regular files` });
    else w.files.push(p);
  }
}

async function expand(path: string, w: Walk): Promise<void> {
  let st: Stats;
  try {
    st = await stat(path);
  } catch (err) {
    w.problems.push({ subject: path, message: fsReason(err) });
    return;
  }
  if (st.isDirectory()) await expandDir(path, w);
  else if (st.isFile()) w.files.push(path);
  else w.problems.push({ subject: path, message: `is ${typeOf(st)}, not a regular file; spec files must be regular files` });
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The offset of the first byte that does not start a valid UTF-8 sequence. */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) [n, min] = [1, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [n, min] = [2, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [n, min] = [3, 0x10000];
    else return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

/** Line and column (1-based, in UTF-16 units like the YAML positions) of a byte offset in valid UTF-8 text before it. */
function positionOf(b: Uint8Array, offset: number): { line: number; col: number } {
  let lineStart = 0;
  let line = 1;
  for (let i = 0; i < offset; i++) {
    if (b[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  const start = line === 1 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : lineStart;
  return { line, col: utf8.decode(b.subarray(start, offset)).length + 1 };
}

/**
 * Decode the bytes of a spec file: UTF-8, a leading byte order mark dropped (so
 * columns are those an editor shows). UTF-16/32, NUL bytes and invalid UTF-8
 * (Latin-1, Windows-1252) are problems with their position, never replaced by U+FFFD.
 */
export function decodeSpecText(file: string, bytes: Uint8Array): { text: string } | { problem: InputProblem } {
  const at = (line: number, col: number) => ({ file, line, col });
  const b0 = bytes[0];
  const b1 = bytes[1];
  if ((b0 === 0xff && b1 === 0xfe) || (b0 === 0xfe && b1 === 0xff)) {
    const utf32 = b0 === 0xff && bytes[2] === 0 && bytes[3] === 0;
    return {
      problem: {
        at: at(1, 1),
        subject: '(file)',
        message: `the file is ${utf32 ? 'UTF-32' : 'UTF-16'} (it starts with a byte order mark ${b0 === 0xff ? 'FF FE' : 'FE FF'}); save it as UTF-8`,
      },
    };
  }
  if (b0 === 0 && b1 === 0 && bytes[2] === 0xfe && bytes[3] === 0xff) {
    return { problem: { at: at(1, 1), subject: '(file)', message: 'the file is UTF-32 (it starts with a byte order mark 00 00 FE FF); save it as UTF-8' } };
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    // Text saved as UTF-16 without a byte order mark has a NUL beside every ASCII character.
    const sample = bytes.subarray(0, Math.min(bytes.length, 64));
    const nuls = sample.reduce((n, x) => n + (x === 0 ? 1 : 0), 0);
    if (nuls * 3 >= sample.length)
      return { problem: { at: at(1, 1), subject: '(file)', message: 'the file looks like UTF-16 (a NUL byte beside every character); save it as UTF-8' } };
    const bad = firstInvalidUtf8(bytes.subarray(0, nul));
    if (bad < 0) {
      const { line, col } = positionOf(bytes, nul);
      return { problem: { at: at(line, col), subject: '(file)', message: 'contains a NUL byte; spec files are UTF-8 text' } };
    }
  }
  try {
    const text = utf8.decode(bytes);
    return { text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text };
  } catch {
    const bad = firstInvalidUtf8(bytes);
    const { line, col } = positionOf(bytes, Math.max(0, bad));
    const hex = bytes[bad]?.toString(16).toUpperCase().padStart(2, '0') ?? '??';
    return {
      problem: {
        at: at(line, col),
        subject: '(file)',
        message: `byte 0x${hex} is not valid UTF-8 (the file looks like Latin-1 or Windows-1252); save it as UTF-8`,
      },
    };
  }
}

/**
 * Read one regular file of at most the size limit, without blocking on a FIFO.
 * Synchronous calls on a non-blocking descriptor: five thread-pool round trips per
 * file (open, stat, read, read, close) were most of the time 1,000 small specs took to read;
 * and four system calls, not five: a read that returns less than it asked for ends the file.
 */
async function readOne(file: string): Promise<{ text: string } | { problem: InputProblem }> {
  let fd;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    return { problem: { subject: file, message: fsReason(err) } };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { problem: { subject: file, message: `is ${typeOf(st)}, not a regular file; spec files must be regular files` } };
    if (st.size > SpecLimits.fileBytes) return { problem: { subject: file, message: tooBig(st.size) } };
    // Sized by the stat (one byte more to see growth), grown up to the limit + 1 if the file grows meanwhile:
    // a buffer of the limit for every file costs 1 GiB of zeroed memory over 1,000 files.
    let buf = Buffer.allocUnsafe(st.size + 1);
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, SpecLimits.fileBytes + 1));
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      const asked = buf.length - n;
      const bytesRead = readSync(fd, buf, n, asked, n);
      n += bytesRead;
      if (n > SpecLimits.fileBytes) return { problem: { subject: file, message: tooBig(n) } };
      // A regular file reads short only at its end: no second call to read the 0 that says so.
      if (bytesRead < asked) break;
    }
    return decodeSpecText(file, buf.subarray(0, n));
  } catch (err) {
    return { problem: { subject: file, message: fsReason(err) } };
  } finally {
    closeSync(fd);
  }
}

function tooBig(size: number): string {
  return `is ${size} bytes${size > SpecLimits.fileBytes ? '' : ' or more'}; a spec file may hold at most ${SpecLimits.fileBytes} bytes (1 MiB)`;
}

/**
 * Read the YAML files at the given paths (files or directories).
 * @returns the files, with the directory entries that were skipped in `skipped`.
 * @throws {InputError} naming every path that does not exist, cannot be read, is
 *   not a regular file, is too big or is not UTF-8; and when no service spec was
 *   found (unless `allowEmpty`).
 */
export async function readSpecFiles(paths: readonly string[], options: ReadOptions = {}): Promise<SpecFiles> {
  const w: Walk = { files: [], skipped: [], problems: [] };
  for (const p of paths) await expand(p, w);
  const unique = [...new Set(w.files)];
  const read = await Promise.all(unique.map(async (file) => ({ file, r: await readOne(file) })));
  const files: SpecFile[] = [];
  for (const { file, r } of read) {
    if ('problem' in r) w.problems.push(r.problem);
    else files.push({ file, text: r.text, kind: kindOf(file) });
  }
  if (w.problems.length > 0) throw new InputError(w.problems);
  if (options.allowEmpty !== true && !files.some((f) => f.kind === 'service')) {
    const where = paths.filter((p) => basename(p) !== 'environments' && kindOf(p) === 'service');
    const skipped = w.skipped.map((s) => basename(s.path));
    throw new InputError([
      {
        subject: (where.length > 0 ? where : paths).join(', ') || '(no paths)',
        message: `no service specs found${skipped.length === 0 ? '' : ` (skipped: ${skipped.join(', ')})`}; service specs are files named *.yaml or *.yml (validate and render accept --allow-empty for an empty set)`,
      },
    ]);
  }
  return Object.assign(files, { skipped: w.skipped });
}
