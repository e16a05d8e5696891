/**
 * Child processes for the stack: run-to-completion commands and detached daemons,
 * both with their output in a log file, and the tail of a log for error messages.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { accessSync, constants } from 'node:fs';
import { sleep } from '../runtime.js';

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Append stdout and stderr to this file instead of keeping them. */
  readonly logFile?: string;
  /** Kill the process after this long. */
  readonly timeoutMs?: number;
}

/** Run a command to completion. Never throws for a non-zero exit; check `code`. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const fd = opts.logFile === undefined ? undefined : openSync(opts.logFile, 'a');
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ['ignore', fd ?? 'pipe', fd ?? 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', (err) => {
      if (timer !== undefined) clearTimeout(timer);
      if (fd !== undefined) closeSync(fd);
      reject(err);
    });
    child.on('close', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      if (fd !== undefined) closeSync(fd);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Start a daemon detached from us, output to `logFile`; returns its pid. */
export function startDaemon(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; logFile: string }): number {
  const fd = openSync(opts.logFile, 'a');
  try {
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ['ignore', fd, fd],
      detached: true,
    });
    if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/**
 * Is a process with this pid alive (and not a zombie)? With `bin`, also that it runs
 * that executable: a pid recorded before a reboot or a killed session may since belong
 * to another program, which must be neither reused nor stopped.
 */
export function alive(pid: number, bin?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/^\d+ \(.*\) Z/.test(stat)) return false;
  } catch {
    return true;
  }
  if (bin === undefined) return true;
  try {
    const exe = readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
    return exe === realpathSync(bin);
  } catch {
    // Not ours to read (another user's process) or the binary is gone: not ours.
    return false;
  }
}

/** The last `n` lines of a file, or a note that there is none. */
export function tail(file: string, n = 20): string {
  try {
    const size = statSync(file).size;
    const text = readFileSync(file, 'utf8').slice(Math.max(0, size - 64 * 1024));
    const lines = text.trimEnd().split('\n');
    return lines.slice(-n).join('\n');
  } catch {
    return `(no log at ${file})`;
  }
}

/** Find an executable on a PATH string. */
export function which(name: string, path = process.env['PATH'] ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).isFile()) return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** Mount points at or below `dir`, deepest first (Linux; none elsewhere). */
export function mountsUnder(dir: string): string[] {
  let table: string;
  try {
    table = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return [];
  }
  // Fields are space-separated with spaces, tabs and newlines in paths written as octal escapes.
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return table
    .split('\n')
    .map((l) => unescape(l.split(' ')[1] ?? ''))
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/**
 * Remove a directory tree that a killed Nomad client may have left tmpfs mounts in
 * (each task's secrets/ and private/): detach those mounts first, or the removal fails
 * with EBUSY. Missing `dir` is fine.
 * @throws the removal's error when a mount cannot be detached (not root, no umount).
 */
export async function removeTree(dir: string): Promise<void> {
  for (const m of mountsUnder(dir)) await run('umount', ['-l', m], { timeoutMs: 10_000 }).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Stop a pid's process group (Nomad's task executors too): SIGTERM, up to 15 s
 * for it to exit, then SIGKILL — or SIGKILL at once with `hard` — and up to 5 s
 * more for the kill to take.
 */
export async function stopPid(pid: number, hard = false): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* gone */
      }
    }
  };
  signal(hard ? 'SIGKILL' : 'SIGTERM');
  const deadline = Date.now() + 15_000;
  while (alive(pid) && Date.now() < deadline) await sleep(100);
  if (alive(pid)) signal('SIGKILL');
  while (alive(pid) && Date.now() < deadline + 5_000) await sleep(100);
}
