/**
 * Writing imported specs: every file is computed first, then written; an
 * existing file is replaced only when asked (`force`), and nothing is written
 * when any file is refused. Each file is written to a temporary name in its
 * directory and renamed, so a reader never sees half a spec.
 */
import { existsSync, lstatSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InputError, pathErrorOf, type InputProblem } from '../../errors.js';

/** One file to write. */
export interface PlannedFile {
  readonly path: string;
  readonly text: string;
  /** What it holds, for messages (`web.nomad.hcl`'s spec). */
  readonly from: string;
}

/** Where the spec of a job goes: `<out>/services/<name>.yaml`. */
export function specPath(out: string, name: string): string {
  return join(out, 'services', `${name}.yaml`);
}

/** Where an environment file goes: `<out>/environments/<name>.yaml`. */
export function environmentPath(out: string, name: string): string {
  return join(out, 'environments', `${name}.yaml`);
}

/** What is at `path`, not following a link: undefined when nothing is (or it cannot be inspected: the write will say). */
function kindAt(path: string): 'link' | 'file' | 'folder' | 'other' | undefined {
  let st;
  try {
    st = lstatSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
  if (st === undefined) return undefined;
  return st.isSymbolicLink() ? 'link' : st.isFile() ? 'file' : st.isDirectory() ? 'folder' : 'other';
}

/**
 * The folders an import writes into (`out`, `out/services`, `out/environments`)
 * that are symbolic links: import writes only into real folders, as `render --out` does,
 * so a link planted there cannot send a spec elsewhere.
 */
export function linkedFolders(out: string): InputProblem[] {
  return [out, join(out, 'services'), join(out, 'environments')]
    .filter((d) => kindAt(d) === 'link')
    .map((d) => ({ subject: d, message: 'is a symbolic link; import writes only into real folders, never through a link: remove it or choose another --out' }));
}

/**
 * Refuse what cannot be written: a folder or target that is a symbolic link (or a
 * target that is not a regular file), two files for one path, and existing files
 * unless `force` (or `replace` names them as files the import updates on purpose).
 * @throws {InputError} naming every refused path.
 */
export function checkWrites(files: readonly PlannedFile[], opts: { readonly force: boolean; readonly updates?: readonly string[] }): void {
  const problems: InputProblem[] = [];
  const seen = new Map<string, string>();
  for (const out of new Set(files.map((f) => dirname(dirname(f.path))))) problems.push(...linkedFolders(out));
  for (const f of files) {
    const kind = kindAt(f.path);
    if (kind !== undefined && kind !== 'file') {
      problems.push({
        subject: f.path,
        message: `is ${kind === 'link' ? 'a symbolic link' : kind === 'folder' ? 'a folder' : 'not a regular file'}; import writes only regular files, never through a link`,
      });
      continue;
    }
    const prev = seen.get(f.path);
    if (prev !== undefined) problems.push({ subject: f.path, message: `both ${prev} and ${f.from} would be written here (the same job ID)` });
    seen.set(f.path, f.from);
    if (!opts.force && !(opts.updates ?? []).includes(f.path) && existsSync(f.path)) {
      problems.push({ subject: f.path, message: `already exists; nothing was written (give --force to replace it with the spec of ${f.from})` });
    }
  }
  if (problems.length > 0) throw new InputError(problems);
}

/**
 * Write every file (temporary name, then rename). Call {@link checkWrites} first.
 * @returns the paths written.
 */
export async function writeFiles(files: readonly PlannedFile[]): Promise<string[]> {
  const temps: [string, string][] = [];
  try {
    for (const f of files) {
      await mkdir(dirname(f.path), { recursive: true });
      const tmp = join(dirname(f.path), `.${f.path.slice(dirname(f.path).length + 1)}.${process.pid}.tmp`);
      await writeFile(tmp, f.text, { mode: 0o644 });
      temps.push([tmp, f.path]);
    }
  } catch (e) {
    for (const [tmp] of temps) await rm(tmp, { force: true });
    throw pathErrorOf(e) ?? e;
  }
  for (const [tmp, path] of temps) await rename(tmp, path);
  return temps.map(([, path]) => path);
}
