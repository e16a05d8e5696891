/**
 * The fast path for copying one blob between two plain-http registries: a thin
 * sibling of `src/http.ts` for the one request pair where the bytes are the cost
 * (GET from the source piped into the PUT that finishes the destination upload).
 *
 * Why a separate door: node's http module hands every 64 KiB read to JavaScript
 * as a fresh buffer; on this machine reading 200 MB that way costs ~0.45 s of CPU,
 * while a socket reading into one reused 1 MiB buffer (`onread`) costs ~0.1 s —
 * and the copy shares two cores with both registries. Only simple answers are
 * handled here (`200` with `Content-Length`, no transfer coding); anything else
 * (a redirect to storage, chunked encoding, an error, https) returns `fallback`
 * before a byte is sent to the destination, and the caller uses the axios path,
 * which reports errors the usual way.
 *
 * The digest is verified while streaming and the last bytes are held back until
 * it matches, so a corrupt blob never reaches the destination whole.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import { ServerError } from '../errors.js';
import { corruptBlob } from './blobs.js';
import { describeErrors } from './client.js';

export interface PipeEnd {
  /** Full URL (http only). */
  readonly url: URL;
  /** Extra request headers (Authorization). */
  readonly headers: Readonly<Record<string, string>>;
  /** Server name for messages: `registry 127.0.0.1:5001`. */
  readonly server: string;
}

export interface PipeRequest {
  readonly source: PipeEnd;
  /**
   * The upload session's URL, `digest=` already in its query. May still be on its
   * way (the POST that opens the session runs while the GET starts); bytes that
   * arrive before it wait in the read pool.
   */
  readonly dest: PipeEnd | Promise<PipeEnd>;
  readonly digest: string;
  readonly size: number;
  /** `host/repository` of the source, for the corruption message. */
  readonly origin: string;
  /** Idle timeout of either connection. @default 60000 */
  readonly timeoutMs?: number;
}

const readBuffer = 1 << 20;
/** Read buffers one transfer may have waiting for the destination. */
const maxBuffers = 16;

function head(method: string, url: URL, headers: Readonly<Record<string, string>>): string {
  const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, 'Connection: close', 'User-Agent: hashiship'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

interface ParsedHead {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
}

function parseHead(text: string): ParsedHead | undefined {
  const [statusLine, ...rest] = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
  if (m === null) return undefined;
  const headers: Record<string, string> = {};
  for (const line of rest) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(m[1]), headers };
}

/** True when both ends can use the fast path. */
export function canPipe(sourceBase: string, destBase: string): boolean {
  return sourceBase.startsWith('http:') && destBase.startsWith('http:');
}

/** `done`; `fallback` (use the axios path); or the storage URL a registry redirected the GET to. */
export type PipeResult = 'done' | 'fallback' | { readonly redirect: URL };

/**
 * Copy one blob: GET from the source, verify, PUT to the destination.
 * @returns `redirect` when the source sends the GET to its storage, `fallback` when
 *   its answer is not a simple 200 (in both cases nothing was sent to the
 *   destination), else `done`.
 * @throws {ServerError} naming the digest when the content is corrupt (the upload
 *   is cut short), or when either registry fails.
 */
export function pipeBlob(req: PipeRequest): Promise<PipeResult> {
  return new Promise((resolve, reject) => {
    const timeout = req.timeoutMs ?? 60_000;
    const hash = createHash('sha256');
    let settled = false;
    let headBytes: Buffer[] = [];
    let phase: 'head' | 'body' | 'sent' = 'head';
    let received = 0;
    let dst: net.Socket | undefined;
    const finish = (err: Error | undefined, value?: PipeResult) => {
      if (settled) return;
      settled = true;
      src.destroy();
      if (err !== undefined || value !== 'done') dst?.destroy();
      if (err !== undefined) reject(err);
      else resolve(value!);
    };
    const settleRedirect = (url: URL) => finish(undefined, { redirect: url });
    const transport = (server: string, address: URL, what: string) => (e: Error & { code?: string }) =>
      finish(
        new ServerError(
          server,
          what,
          address.origin,
          e.code === 'ECONNREFUSED' ? 'cannot connect (connection refused)' : `connection failed (${e.code ?? e.message})`,
        ),
      );

    /** Body bytes waiting for the destination connection. */
    let waiting: { chunk: Buffer; backing: Buffer }[] | undefined = [];
    const openDest = async () => {
      let dest: PipeEnd;
      try {
        dest = await req.dest;
      } catch (err) {
        finish(err as Error);
        return;
      }
      if (settled) return;
      const d = net.connect({ host: dest.url.hostname, port: Number(dest.url.port || 80) });
      dst = d;
      d.setNoDelay(true);
      d.setTimeout(timeout, () => finish(new ServerError(dest.server, 'blobs.upload', dest.url.origin, 'timed out')));
      d.on('error', transport(dest.server, dest.url, 'blobs.upload'));
      const answer: Buffer[] = [];
      d.on('data', (c: Buffer) => answer.push(c));
      d.on('end', () => {
        const all = Buffer.concat(answer);
        const sep = all.indexOf('\r\n\r\n');
        const parsed = sep < 0 ? undefined : parseHead(all.subarray(0, sep).toString('latin1'));
        if (parsed === undefined) {
          finish(new ServerError(dest.server, 'blobs.upload', dest.url.origin, 'connection closed without an HTTP answer'));
        } else if (parsed.status !== 201 && parsed.status !== 204) {
          finish(
            new ServerError(dest.server, 'blobs.upload', dest.url.origin, `${parsed.status} ${describeErrors(all.subarray(sep + 4))}`.trim(), {
              status: parsed.status,
            }),
          );
        } else if (phase !== 'sent') {
          finish(new ServerError(dest.server, 'blobs.upload', dest.url.origin, `answered ${parsed.status} before the whole blob was sent`));
        } else finish(undefined, 'done');
      });
      d.write(head('PUT', dest.url, { ...dest.headers, 'Content-Type': 'application/octet-stream', 'Content-Length': String(req.size) }));
      const queued = waiting ?? [];
      waiting = undefined;
      for (const w of queued) d.write(w.chunk, () => release(w.backing));
    };

    // Reads land in pooled buffers that go to the destination as they are and come
    // back once written: no copy, no garbage. Too many in flight pauses the source.
    const pool: Buffer[] = [];
    let inFlight = 0;
    let paused = false;
    const take = (): Buffer => pool.pop() ?? Buffer.allocUnsafe(readBuffer);
    const release = (b: Buffer) => {
      inFlight--;
      if (b.length === readBuffer && pool.length < maxBuffers) pool.push(b);
      if (paused && inFlight <= maxBuffers / 2) {
        paused = false;
        src.resume();
      }
    };

    /** Body bytes `chunk` (a view of the pooled `backing`); false to pause the source. */
    const body = (chunk: Buffer, backing: Buffer): boolean => {
      if (chunk.length === 0) {
        if (backing.length === readBuffer) pool.push(backing);
        return true;
      }
      received += chunk.length;
      hash.update(chunk);
      if (received > req.size) {
        finish(corrupt(req, `more than the ${req.size} bytes its descriptor declares`));
        return false;
      }
      if (received === req.size) {
        // The last bytes: only once the digest matches.
        const got = `sha256:${hash.digest('hex')}`;
        if (got !== req.digest) {
          finish(corrupt(req, `content hashes to ${got}`));
          return false;
        }
        phase = 'sent';
      }
      inFlight++;
      if (waiting !== undefined) waiting.push({ chunk, backing });
      else dst!.write(chunk, () => release(backing));
      if (phase === 'sent') {
        src.destroy();
        return false;
      }
      if (inFlight >= maxBuffers) {
        paused = true;
        return false;
      }
      return true;
    };

    const src: net.Socket = net.connect({
      host: req.source.url.hostname,
      port: Number(req.source.url.port || 80),
      onread: {
        buffer: take,
        callback: (n: number, buf: Uint8Array): boolean => {
          const backing = buf as Buffer;
          if (settled) return false;
          const data = backing.subarray(0, n);
          if (phase === 'head') {
            headBytes.push(Buffer.from(data));
            pool.push(backing);
            const all = Buffer.concat(headBytes);
            const sep = all.indexOf('\r\n\r\n');
            if (sep < 0) {
              if (all.length > 64 * 1024) finish(undefined, 'fallback');
              return true;
            }
            const parsed = parseHead(all.subarray(0, sep).toString('latin1'));
            const location = parsed?.headers['location'];
            if (parsed !== undefined && [301, 302, 303, 307, 308].includes(parsed.status) && location !== undefined) {
              settleRedirect(new URL(location, req.source.url));
              return false;
            }
            const len = parsed?.headers['content-length'];
            if (
              parsed === undefined ||
              parsed.status !== 200 ||
              parsed.headers['transfer-encoding'] !== undefined ||
              len === undefined ||
              Number(len) !== req.size
            ) {
              finish(undefined, 'fallback');
              return false;
            }
            phase = 'body';
            headBytes = [];
            void openDest();
            const rest = all.subarray(sep + 4);
            return body(rest, rest);
          }
          if (phase === 'body') return body(data, backing);
          return false;
        },
      },
    });
    src.setNoDelay(true);
    src.setTimeout(timeout, () => finish(new ServerError(req.source.server, 'blobs.get', req.source.url.origin, 'timed out')));
    src.on('error', (e: Error & { code?: string }) => {
      if (phase === 'sent') return; // we closed it ourselves after the last byte
      transport(req.source.server, req.source.url, 'blobs.get')(e);
    });
    src.on('end', () => {
      if (phase === 'head') finish(undefined, 'fallback');
      else if (phase === 'body' && received < req.size) finish(corrupt(req, `${received} bytes, its descriptor declares ${req.size}`));
    });
    src.write(head('GET', req.source.url, req.source.headers));
  });
}

function corrupt(req: PipeRequest, what: string): ServerError {
  return corruptBlob(req.origin, req.digest, what);
}
