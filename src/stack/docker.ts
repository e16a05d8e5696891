/**
 * The stack's own Docker engine: Debian's dockerd with its data root, exec root,
 * pid file and socket under the state folder, so it never touches the system's
 * engine (/var/run/docker.sock, /var/lib/docker). No bridge, no iptables, no IP
 * forwarding: containers run with host networking on loopback (or with no network
 * at all), and the host's network configuration is left as it was.
 *
 * dockerd starts and stops its own containerd (socket under the exec root), so a
 * system containerd, if any, is not shared either.
 */
import http from 'node:http';
import { join } from 'node:path';
import { mountsUnder, run } from './proc.js';

/** Where the engine keeps everything, below the stack's state folder. */
export interface DockerPaths {
  /** `<state>/docker`. */
  readonly root: string;
  /** Images, containers, volumes (kept between runs: a warm pull is a cache hit). */
  readonly data: string;
  /** Runtime state: containerd's socket, network namespaces (removed by `down`). */
  readonly exec: string;
  /** The API socket (`DOCKER_HOST=unix://<socket>`). */
  readonly socket: string;
  readonly pidfile: string;
  /** daemon.json, read instead of /etc/docker/daemon.json. */
  readonly config: string;
}

/** The paths of the engine of a state folder. */
export function dockerPaths(stateDir: string): DockerPaths {
  const root = join(stateDir, 'docker');
  return {
    root,
    data: join(root, 'data'),
    exec: join(root, 'exec'),
    socket: join(root, 'docker.sock'),
    pidfile: join(root, 'docker.pid'),
    config: join(root, 'daemon.json'),
  };
}

/** `unix://<socket>`: the engine's address for DOCKER_HOST and Nomad's docker plugin. */
export function dockerHost(stateDir: string): string {
  return `unix://${dockerPaths(stateDir).socket}`;
}

/**
 * daemon.json of the stack's engine. Its own file, so a system
 * /etc/docker/daemon.json (which may name other hosts or roots) is never read.
 */
export function dockerDaemonConfig(stateDir: string): string {
  const p = dockerPaths(stateDir);
  const config = {
    'data-root': p.data,
    'exec-root': p.exec,
    pidfile: p.pidfile,
    hosts: [`unix://${p.socket}`],
    // No docker0 bridge and no iptables/NAT rules or sysctl changes on the host:
    // tasks use host networking and bind 127.0.0.1.
    bridge: 'none',
    iptables: false,
    'ip-masq': false,
    'ip-forward': false,
    // Should anything still publish a port, it binds loopback, without docker-proxy.
    ip: '127.0.0.1',
    'userland-proxy': false,
    // The stack's registries are plain HTTP on loopback (127.0.0.0/8 is insecure by
    // default in dockerd too; written here so that it is visible).
    'insecure-registries': ['127.0.0.0/8'],
    // The legacy builder: no BuildKit on these machines.
    features: { buildkit: false },
    // `down` stops containers with the engine: none outlive it.
    'live-restore': false,
    'shutdown-timeout': 5,
    'log-level': 'warn',
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** dockerd's command line: everything else is in daemon.json. */
export function dockerdArgs(stateDir: string): string[] {
  return ['--config-file', dockerPaths(stateDir).config];
}

export interface DockerAnswer {
  readonly status: number;
  readonly body: unknown;
}

/**
 * One request to the Engine API over its unix socket.
 * @throws the connection error when nothing listens (ENOENT, ECONNREFUSED) or on timeout.
 */
export function dockerRequest(socket: string, method: string, path: string, timeoutMs = 10_000): Promise<DockerAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method, path, headers: { Host: 'docker' }, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          /* plain text (/_ping answers "OK") */
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`docker: ${method} ${path}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** GET /_ping: the engine's health, or undefined when nothing answers. */
export async function dockerPing(socket: string, timeoutMs = 2000): Promise<DockerAnswer | undefined> {
  try {
    return await dockerRequest(socket, 'GET', '/_ping', timeoutMs);
  } catch {
    return undefined;
  }
}

interface ContainerSummary {
  readonly Id: string;
  readonly Names?: readonly string[];
  readonly State?: string;
  readonly Labels?: Readonly<Record<string, string>>;
}

/** The label Nomad's docker driver puts on every container it starts. */
export const NomadAllocLabel = 'com.hashicorp.nomad.alloc_id';

/**
 * Remove containers of the engine, running or not (force, with their anonymous
 * volumes) — all of them, or those carrying `label`. Returns the ids removed.
 * @throws an Error naming the container when the engine refuses to remove it.
 */
export async function removeContainers(socket: string, label?: string): Promise<string[]> {
  const filters = label === undefined ? '' : `&filters=${encodeURIComponent(JSON.stringify({ label: [label] }))}`;
  const list = await dockerRequest(socket, 'GET', `/containers/json?all=true${filters}`);
  if (list.status !== 200 || !Array.isArray(list.body)) {
    throw new Error(`docker: GET /containers/json: ${list.status} ${JSON.stringify(list.body).slice(0, 200)}`);
  }
  const removed: string[] = [];
  for (const c of list.body as ContainerSummary[]) {
    // Stop first (SIGTERM, then SIGKILL after 2 s) so that the task's process gets
    // its signal; then remove it with its anonymous volumes.
    if (c.State === 'running') await dockerRequest(socket, 'POST', `/containers/${c.Id}/stop?t=2`, 30_000);
    const r = await dockerRequest(socket, 'DELETE', `/containers/${c.Id}?force=true&v=true`, 30_000);
    if (r.status !== 204 && r.status !== 404) {
      throw new Error(`docker: remove container ${c.Names?.[0] ?? c.Id}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
    }
    removed.push(c.Id);
  }
  return removed;
}

/**
 * What a stopped engine may leave mounted below its folders (the `default` network
 * namespace under the exec root, the data root's private bind mount, overlay mounts
 * after a kill): detach each, deepest first. Returns the mount points it detached.
 */
export async function detachDockerMounts(stateDir: string): Promise<string[]> {
  const p = dockerPaths(stateDir);
  const left = [...mountsUnder(p.exec), ...mountsUnder(p.data)].sort((a, b) => b.length - a.length);
  for (const m of left) await run('umount', ['-l', m], { timeoutMs: 10_000 }).catch(() => undefined);
  return left;
}
