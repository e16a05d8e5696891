/**
 * Reading a file a flag names (`--plan`, `--job`, `--from-file`): only a regular
 * file, without blocking (a FIFO with no writer hung the command), at most a
 * given size (`/dev/zero` never ends; a 60 MB file was read whole before its
 * first check), as UTF-8. Every refusal is an {@link InputError} naming the flag.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { InputError } from '../errors.js';

export interface InputFileOptions {
  /** How the file is named in messages: `--plan="plan.json"`. */
  readonly subject: string;
  /** The largest file read. */
  readonly maxBytes: number;
  /** What the file should hold, for messages: `a plan`, `a job`. */
  readonly what: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function refuse(o: InputFileOptions, message: string): InputError {
  return new InputError([{ subject: o.subject, message }]);
}

function reasonOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'ELOOP') return 'a symbolic link loop';
  if (code === 'ENOTDIR') return 'a part of the path is not a directory';
  return `cannot be read (${code ?? String(err)})`;
}

/** What {@link readRegularFile} found. */
export type RegularFile =
  | { readonly kind: 'read'; readonly bytes: Buffer }
  /** Opening or reading failed (`ENOENT`, `EACCES`…). */
  | { readonly kind: 'error'; readonly error: unknown }
  | { readonly kind: 'not-a-file'; readonly what: 'a directory' | 'a FIFO' | 'a socket' | 'a device' }
  | { readonly kind: 'too-big'; readonly size: number }
  /** It grew between the size check and the read: not the file that was checked. */
  | { readonly kind: 'grew' };

/**
 * The bytes of a regular file of at most `maxBytes`, opened without blocking (a
 * FIFO with no writer would hang; its type is checked on the open file) and read
 * no further than its size (`/dev/zero` never ends). Callers word the refusals.
 */
export function readRegularFile(file: string, maxBytes: number): RegularFile {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return { kind: 'error', error };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { kind: 'not-a-file', what: st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : 'a device' };
    if (st.size > maxBytes) return { kind: 'too-big', size: st.size };
    const buf = Buffer.allocUnsafe(st.size + 1);
    let n = 0;
    for (let k = 0; n < buf.length && (k = readSync(fd, buf, n, buf.length - n, n)) > 0;) n += k;
    return n > st.size ? { kind: 'grew' } : { kind: 'read', bytes: buf.subarray(0, n) };
  } catch (error) {
    return { kind: 'error', error };
  } finally {
    closeSync(fd);
  }
}

/**
 * The text of a regular file of at most `maxBytes` bytes.
 * @throws {InputError} naming `subject` when it is missing, not a regular file, too big or not UTF-8.
 */
export function readInputFile(file: string, o: InputFileOptions): string {
  const r = readRegularFile(file, o.maxBytes);
  switch (r.kind) {
    case 'read':
      return decode(r.bytes, o);
    case 'error':
      throw refuse(o, reasonOf(r.error));
    case 'not-a-file':
      throw refuse(
        o,
        r.what === 'a directory' ? `is a directory; give a file holding ${o.what}` : `is ${r.what}, not a regular file; give a file holding ${o.what}`,
      );
    case 'too-big':
      throw refuse(o, `is ${r.size} bytes; a file holding ${o.what} may have at most ${o.maxBytes}`);
    case 'grew':
      throw refuse(o, 'changed while it was read');
  }
}

/**
 * Standard input (`--from-file -`), read up to `maxBytes`.
 * @throws {InputError} naming `subject` when it holds more, or is not UTF-8.
 */
export async function readInputStream(stream: AsyncIterable<Uint8Array | string>, o: InputFileOptions): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    const b = typeof c === 'string' ? Buffer.from(c) : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    n += b.length;
    if (n > o.maxBytes) throw refuse(o, `holds more than ${o.maxBytes} bytes; ${o.what} is smaller`);
    chunks.push(b);
  }
  return decode(Buffer.concat(chunks), o);
}

function decode(bytes: Uint8Array, o: InputFileOptions): string {
  try {
    const text = utf8.decode(bytes);
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch {
    throw refuse(o, `is not UTF-8 text (expected ${o.what})`);
  }
}
