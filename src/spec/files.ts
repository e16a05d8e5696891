/**
 * Reading spec files from disk: the only I/O of the spec area. Directories are
 * read recursively for `.yaml`/`.yml` files, in sorted order.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { kindOf, type SpecFile } from './load.js';

/** Where specs live unless told otherwise. */
export const DefaultPaths = {
  services: 'jobs/services',
  environments: 'jobs/environments',
  generated: 'jobs/generated',
} as const;

async function expand(path: string, out: string[]): Promise<void> {
  const s = await stat(path).catch(() => undefined);
  if (s === undefined) throw new InputError([{ subject: path, message: 'no such file or directory' }]);
  if (!s.isDirectory()) {
    out.push(path);
    return;
  }
  for (const entry of (await readdir(path)).sort()) {
    const p = join(path, entry);
    const st = await stat(p);
    if (st.isDirectory()) await expand(p, out);
    else if (/\.ya?ml$/.test(entry)) out.push(p);
  }
}

/**
 * Read the YAML files at the given paths (files or directories).
 * @throws {InputError} when a path does not exist.
 */
export async function readSpecFiles(paths: readonly string[]): Promise<SpecFile[]> {
  const files: string[] = [];
  for (const p of paths) await expand(p, files);
  const unique = [...new Set(files)];
  return Promise.all(unique.map(async (file) => ({ file, text: await readFile(file, 'utf8'), kind: kindOf(file) })));
}
