/**
 * Semantic checks: what a schema cannot say. Run on a service on its own and on
 * the service merged with each environment; every problem points at the file
 * and line that set the offending value.
 */
import { excerpt, type InputProblem } from '../errors.js';
import { childPath } from './check.js';
import { SECRET_KEY, secretIn, secretLooking } from './external.js';
import { parseDuration } from './duration.js';
import { hasUpdate, type ResolvedService } from './overlay.js';
import { NAME } from './schema.js';
import { checkFreeForm, checkRaw, isDefaultIdentity, type RawLevel } from '../nomad/raw.js';
import {
  isVaultWritePath,
  type CheckSpec,
  type ConstraintSpec,
  type DockerSpec,
  type GroupSpec,
  type ServiceRegistrationSpec,
  type TaskSpec,
  type UpdateSpec,
} from './types.js';
import { suggest } from './suggest.js';

/** Nomad's default log rotation: 10 files of 10 MB. */
const DEFAULT_LOG_MB = 100;
/** Nomad's default ephemeral disk. */
const DEFAULT_DISK_MB = 300;

const CRON_DESCRIPTOR = /^@(?:yearly|annually|monthly|weekly|daily|midnight|hourly)$/;

/**
 * Linux refuses to start a process with one argument or `NAME=value` string
 * longer than this (MAX_ARG_STRLEN, 32 pages), or with all of them together over
 * ARG_MAX (2 MiB with the default 8 MiB stack).
 */
const MAX_ARG_STRLEN = 131_072;
const ARG_MAX = 2_097_152;

/** A command-line flag that carries a secret: `--password=x`, or `--token` followed by the value. */
const SECRET_FLAG = /^--?[A-Za-z0-9_.-]*(?:password|passwd|secret|token|api[_-]?key|private[_-]?key)$/i;
/** A line of a template that assigns a secret literally (`password = "hunter2"`), not through `{{ … }}`. */
const SECRET_ASSIGNMENT = /^[ \t]*["']?[A-Za-z0-9_.-]*(?:password|passwd|secret|token|api[_-]?key)["']?[ \t]*[:=][ \t]*["']?(?![{$<%(\s"']|$)\S/im;
/** Nomad or consul-template interpolation: the value is filled in at run time, not written here. */
const TEMPLATED = /^(?:\$\{|\{\{)/;

/** The task that runs when no lifecycle hook is set. */
export function isMainTask(t: TaskSpec): boolean {
  return t.lifecycle === undefined;
}

/** A check's name: the spec's, or the one Nomad gives an unnamed check (`service: "<service>" check`). */
export function defaultCheckName(serviceName: string, c: Pick<CheckSpec, 'name'> & { readonly type?: CheckSpec['type'] }): string {
  return c.name ?? `service: ${JSON.stringify(serviceName)} check`;
}

/**
 * The Consul service name of a registration, with Nomad's service interpolations
 * expanded as Nomad does for a group service: `${JOB}` the job, `${TASKGROUP}` the
 * group, `${TASK}` the word `group`, `${BASE}` `<job>-<group>-group`. Without the
 * group name `${TASKGROUP}` and `${BASE}` stay as written.
 */
export function serviceNameOf(job: string, s: Pick<ServiceRegistrationSpec, 'name'>, group?: string, task?: string): string {
  const name = s.name ?? job;
  if (!name.includes('${')) return name;
  const values: Record<string, string | undefined> = {
    JOB: job,
    TASKGROUP: group,
    TASK: task ?? 'group',
    BASE: group === undefined ? undefined : `${job}-${group}-${task ?? 'group'}`,
  };
  return name.replace(/\$\{([A-Z]+)\}/g, (m, k: string) => values[k] ?? m);
}

/** Whether a service port is a port number rather than a label. */
export function isPortNumber(port: string): boolean {
  return /^[0-9]+$/.test(port);
}

/**
 * The group ports the Connect sidecar proxies of a group listen on (their
 * `sidecar_service.port` and `expose` listener ports), each with the path that
 * names it: Nomad's injected proxy task binds them, so no task publishes them.
 */
export function connectPorts(g: GroupSpec, gp = ''): Map<string, string> {
  const out = new Map<string, string>();
  (g.services ?? []).forEach((s, si) => {
    const ss = s.connect?.sidecar_service;
    if (ss === undefined) return;
    const sp = childPath(childPath(childPath(childPath(gp, 'services'), si), 'connect'), 'sidecar_service');
    if (ss.port !== undefined && !out.has(ss.port)) out.set(ss.port, childPath(sp, 'port'));
    (ss.proxy?.expose?.paths ?? []).forEach((x, i) => {
      if (!out.has(x.listener_port)) out.set(x.listener_port, childPath(childPath(childPath(childPath(sp, 'proxy'), 'expose'), 'paths'), i));
    });
  });
  return out;
}

/**
 * The group ports a docker task publishes: those in its `ports`, or, for the
 * group's only main docker task without `ports`, every group port that no other
 * task publishes and no Connect sidecar proxy listens on (so a port is never
 * bound twice).
 */
export function publishedPorts(g: GroupSpec, t: TaskSpec, implicit = true): readonly string[] {
  if ((t.driver ?? 'docker') !== 'docker') return [];
  if (t.ports !== undefined) return t.ports;
  if (!implicit) return [];
  const mainDocker = g.tasks.filter((x) => isMainTask(x) && (x.driver ?? 'docker') === 'docker');
  if (mainDocker.length !== 1 || mainDocker[0] !== t) return [];
  const taken = new Set(g.tasks.flatMap((x) => (x === t || (x.driver ?? 'docker') !== 'docker' ? [] : (x.ports ?? []))));
  const proxies = connectPorts(g);
  return Object.keys(g.ports ?? {}).filter((p) => !taken.has(p) && !proxies.has(p));
}

const ARCHIVE = /\.(?:zip|tar|tgz|tbz2|txz|gz|bz2|xz|zst)$/i;

/**
 * Where a java task's jar is after fetching (`jar_path`): `jar.path`, else
 * `local/<file name of the source>`; undefined when the source names a
 * directory, a repository or an archive, so the file name says nothing.
 */
export function jarPath(jar: { readonly source: string; readonly path?: string }): string | undefined {
  if (jar.path !== undefined) return jar.path;
  const [url = '', query = ''] = jar.source.split('?', 2);
  if (/^(?:git|hg)::/.test(url) || /(?:^|&)archive=(?!false(?:&|$))/.test(query)) return undefined;
  const file = url.slice(url.lastIndexOf('/') + 1);
  if (file === '' || (ARCHIVE.test(file) && !/(?:^|&)archive=false(?:&|$)/.test(query))) return undefined;
  return `local/${file}`;
}

/** A task-directory path with `${NOMAD_TASK_DIR}`-style prefixes as the relative path they stand for. */
function taskFile(path: string): string {
  return path
    .replace(/^\$\{NOMAD_TASK_DIR\}/, 'local')
    .replace(/^\$\{NOMAD_SECRETS_DIR\}/, 'secrets')
    .replace(/^\$\{NOMAD_ALLOC_DIR\}/, 'alloc');
}

class Reporter {
  readonly problems: InputProblem[] = [];
  constructor(readonly r: ResolvedService) {}

  /** Report at the origin of `path`; `also` are the other paths the problem involves. */
  add(path: string, message: string, also: readonly string[] = []): void {
    const o = this.r.origin(path);
    if (o.invalid || also.some((p) => this.r.origin(p).invalid)) return;
    const envInvolved = o.fromEnvironment || also.some((p) => this.r.origin(p).fromEnvironment);
    const suffix = envInvolved && this.r.environment !== undefined ? ` (environment ${this.r.environment.name})` : '';
    this.problems.push({ at: o.at, subject: o.subject, message: `${message}${suffix}` });
  }
}

function dur(v: string | undefined): number | undefined {
  return v === undefined ? undefined : parseDuration(v);
}

function checkConstraints(rep: Reporter, path: string, list: readonly ConstraintSpec[] | undefined): void {
  (list ?? []).forEach((c, i) => {
    const p = childPath(path, i);
    const op = c.operator ?? '=';
    if (c.attribute === undefined && op !== 'distinct_hosts') rep.add(p, `constraint needs an \`attribute\` (operator \`${op}\`)`);
    if (c.value === undefined && !['distinct_hosts', 'distinct_property', 'is_set', 'is_not_set'].includes(op)) {
      rep.add(p, `constraint needs a \`value\` (operator \`${op}\`)`);
    }
  });
}

interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** Special forms cronexpr accepts in this field: `?`, `L`, `W`, `#`. */
  readonly special?: RegExp;
}
const SECOND: CronField = { name: 'second', min: 0, max: 59 };
const MINUTE: CronField = { name: 'minute', min: 0, max: 59 };
const HOUR: CronField = { name: 'hour', min: 0, max: 23 };
const DOM: CronField = { name: 'day of month', min: 1, max: 31, special: /^(?:\?|L|LW|(\d{1,2})W)$/ };
const MONTH: CronField = { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] };
const DOW: CronField = {
  name: 'day of week',
  min: 0,
  max: 7,
  names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'],
  special: /^(?:\?|L|([0-7])L|([0-7])#[1-5])$/,
};
const YEAR: CronField = { name: 'year', min: 1970, max: 2099 };

/** What is wrong with one field of a cron expression, or undefined. */
function cronFieldProblem(text: string, f: CronField): string | undefined {
  const range = `${f.min}-${f.max}${f.names === undefined ? '' : ` or ${f.names[0]}-${f.names[f.names.length - 1]}`}`;
  const value = (v: string): number | string => {
    const i = f.names?.indexOf(v.toUpperCase()) ?? -1;
    if (i >= 0) return i + f.min;
    if (!/^\d{1,4}$/.test(v)) return `${f.name} \`${excerpt(v, 20)}\` is not ${f.names === undefined ? 'a number' : 'a number or a name'} (${range})`;
    const n = Number(v);
    return n < f.min || n > f.max ? `${f.name} ${n} is out of range ${range}` : n;
  };
  for (const item of text.split(',')) {
    if (item === '') return `${f.name} \`${excerpt(text, 40)}\` has an empty list item`;
    const special = f.special?.exec(item);
    if (special !== null && special !== undefined) {
      const n = special.slice(1).find((x) => x !== undefined);
      if (n !== undefined && (Number(n) < f.min || Number(n) > f.max)) return `${f.name} ${n} is out of range ${range}`;
      continue;
    }
    const m = /^([^/]+)(?:\/(.*))?$/.exec(item);
    if (m === null) return `${f.name} \`${excerpt(item, 40)}\` is not a value, range or step`;
    const [, base = '', step] = m;
    if (step !== undefined) {
      if (!/^\d{1,4}$/.test(step) || Number(step) < 1 || Number(step) > f.max - f.min + 1)
        return `${f.name} step \`${excerpt(step, 20)}\` must be a number from 1 to ${f.max - f.min + 1}`;
    }
    if (base === '*') continue;
    const parts = base.split('-');
    if (parts.length > 2) return `${f.name} \`${excerpt(base, 40)}\` is not a value or a range`;
    for (const p of parts) {
      const v = value(p);
      if (typeof v === 'string') return v;
    }
  }
  return undefined;
}

/**
 * Nomad's cron (hashicorp/cronexpr): 5 fields (minute hour day-of-month month
 * day-of-week), 6 (a year after them) or 7 (a second before, a year after), or a
 * macro such as @daily; Nomad refuses anything else only when the job is planned.
 */
function checkCron(rep: Reporter, path: string, cron: string): void {
  if (CRON_DESCRIPTOR.test(cron)) return;
  const fields = cron.trim().split(/\s+/);
  const shown = excerpt(cron, 80);
  const layout =
    fields.length === 5
      ? [MINUTE, HOUR, DOM, MONTH, DOW]
      : fields.length === 6
        ? [MINUTE, HOUR, DOM, MONTH, DOW, YEAR]
        : fields.length === 7
          ? [SECOND, MINUTE, HOUR, DOM, MONTH, DOW, YEAR]
          : undefined;
  if (layout === undefined || cron.trim() === '') {
    rep.add(
      path,
      `\`${shown}\` is not a cron expression: it has ${cron.trim() === '' ? 0 : fields.length} fields; write 5 (minute hour day-of-month month day-of-week, e.g. "0 3 * * *"; 6 adds a year, 7 a second before and a year after) or a macro such as @daily or @hourly`,
    );
    return;
  }
  const problems = fields.map((f, i) => cronFieldProblem(f, layout[i]!)).filter((p): p is string => p !== undefined);
  if (problems.length > 0) rep.add(path, `\`${shown}\` is not a valid cron expression: ${problems.join('; ')}`);
}

function checkService(
  rep: Reporter,
  job: string,
  g: GroupSpec,
  gp: string,
  s: ServiceRegistrationSpec,
  sp: string,
  ports: readonly string[],
  owner?: TaskSpec,
): void {
  const name = serviceNameOf(job, s, g.name, owner?.name);
  const mainTasks = g.tasks.filter(isMainTask);
  if (s.name === undefined && !NAME.test(job)) {
    rep.add(sp, `the job ID \`${job}\` is not a DNS-safe Consul service name; give this service a \`name\``, ['name']);
  } else if (s.name !== undefined && s.name.includes('${') && !NAME.test(name)) {
    rep.add(childPath(sp, 'name'), `expands to \`${name}\`, which is not a DNS-safe Consul service name (letters, digits and dashes, at most 63 characters)`);
  }
  if (isPortNumber(s.port)) {
    // Nomad registers a port number as is: with the node's (Consul agent's) address, or the allocation's with address_mode alloc.
    if (Number(s.port) > 65535) rep.add(childPath(sp, 'port'), `port ${s.port} is above 65535`);
  } else if (!ports.includes(s.port)) {
    const hint = suggest(s.port, ports);
    rep.add(
      childPath(sp, 'port'),
      `port \`${s.port}\` is not declared in ${gp}.ports${hint === undefined ? (ports.length === 0 ? ' (the group has no ports)' : '') : `; did you mean \`${hint}\`?`}`,
    );
  }
  if (s.task !== undefined && !g.tasks.some((t) => t.name === s.task)) {
    rep.add(childPath(sp, 'task'), `task \`${s.task}\` is not a task of group \`${g.name}\``);
  }
  checkMeta(rep, childPath(sp, 'meta'), s.meta);
  (s.tags ?? []).forEach((tag, i) => {
    const what = secretIn(tag);
    if (what !== undefined)
      rep.add(childPath(childPath(sp, 'tags'), i), `the tag looks like ${what}; tags are public in the Consul catalog: keep secrets in Vault`);
  });
  const checkNames = new Map<string, number>();
  (s.checks ?? []).forEach((c, ci) => {
    const cp = childPath(childPath(sp, 'checks'), ci);
    checkArgs(rep, childPath(cp, 'args'), c.args);
    // Unnamed checks all get Nomad's one default name; Consul tells them apart by ID.
    if (c.name !== undefined) {
      if (checkNames.has(c.name)) {
        rep.add(childPath(cp, 'name'), `check name \`${c.name}\` is already used by checks[${checkNames.get(c.name)}] of this service`);
      } else checkNames.set(c.name, ci);
    }
    if (c.port !== undefined && !isPortNumber(c.port) && !ports.includes(c.port)) {
      const hint = suggest(c.port, ports);
      rep.add(childPath(cp, 'port'), `port \`${c.port}\` is not declared in ${gp}.ports${hint === undefined ? '' : `; did you mean \`${hint}\`?`}`);
    }
    const only = (key: keyof CheckSpec, types: readonly string[]): void => {
      if (c[key] !== undefined && !types.includes(c.type)) rep.add(childPath(cp, key), `\`${key}\` applies to ${types.join(' and ')} checks, not ${c.type}`);
    };
    only('path', ['http']);
    only('method', ['http']);
    only('protocol', ['http']);
    only('grpc_service', ['grpc']);
    only('grpc_use_tls', ['grpc']);
    only('header', ['http']);
    only('body', ['http']);
    only('tls_skip_verify', ['http', 'grpc']);
    only('expose', ['http', 'grpc']);
    if ((s.provider ?? 'consul') === 'nomad') {
      for (const key of ['success_before_passing', 'failures_before_critical', 'tls_skip_verify', 'expose'] as const)
        if (c[key] !== undefined) rep.add(childPath(cp, key), `\`${key}\` needs provider consul`);
    }
    only('command', ['script']);
    only('args', ['script']);
    only('task', ['script']);
    if (c.type === 'http') {
      if (c.path === undefined) rep.add(cp, 'an http check needs a `path`');
      else if (!c.path.startsWith('/')) rep.add(childPath(cp, 'path'), `\`${c.path}\` must start with \`/\``);
    }
    if (c.type === 'script') {
      if (c.command === undefined) rep.add(cp, 'a script check needs a `command`');
      const task = c.task ?? s.task;
      if (task === undefined && mainTasks.length !== 1) rep.add(cp, 'a script check needs a `task` when the group has several main tasks');
      if (c.task !== undefined && !g.tasks.some((t) => t.name === c.task))
        rep.add(childPath(cp, 'task'), `task \`${c.task}\` is not a task of group \`${g.name}\``);
    }
    if ((s.provider ?? 'consul') === 'nomad' && (c.type === 'grpc' || c.type === 'script')) {
      rep.add(childPath(cp, 'type'), `${c.type} checks need provider consul; Nomad's own service checks support http and tcp`);
    }
    const interval = dur(c.interval);
    if (interval !== undefined && interval < 1e9) rep.add(childPath(cp, 'interval'), `\`${c.interval}\` is shorter than the minimum of 1s`);
    const timeout = dur(c.timeout);
    if (timeout !== undefined && timeout < 1e9) rep.add(childPath(cp, 'timeout'), `\`${c.timeout}\` is shorter than the minimum of 1s`);
    if (c.check_restart?.ignore_warnings !== undefined && (s.provider ?? 'consul') === 'nomad') {
      rep.add(childPath(childPath(cp, 'check_restart'), 'ignore_warnings'), 'ignore_warnings needs provider consul');
    }
  });
  checkMeta(rep, childPath(sp, 'canary_meta'), s.canary_meta);
  if (s.connect !== undefined) checkConnect(rep, g, gp, s, sp, ports, owner);
  (s.checks ?? []).forEach((c, ci) => {
    // Nomad: the service's port is the proxy's; a TCP probe of it says nothing about the task.
    if (c.type === 'tcp' && s.connect?.sidecar_service !== undefined && owner === undefined)
      rep.add(
        childPath(childPath(childPath(sp, 'checks'), ci), 'type'),
        'Nomad refuses tcp checks on a service with a Connect sidecar: use an http or grpc check with `expose: true` (the sidecar has its own TCP check)',
      );
    if (c.expose === true && (c.type === 'http' || c.type === 'grpc') && s.connect?.sidecar_service === undefined)
      rep.add(
        childPath(childPath(childPath(sp, 'checks'), ci), 'expose'),
        '`expose` serves the check through the Connect sidecar: the service needs `connect.sidecar_service`',
      );
  });
  if (s.identity !== undefined && (s.provider ?? 'consul') === 'nomad')
    rep.add(childPath(sp, 'identity'), 'a service identity is exchanged for a Consul token: it needs provider consul');
  if ((s.provider ?? 'consul') === 'nomad' && s.enable_tag_override !== undefined)
    rep.add(childPath(sp, 'enable_tag_override'), 'enable_tag_override needs provider consul');
  if (s.canary_tags !== undefined && (s.routes ?? []).length > 0 && !s.canary_tags.includes('canary')) {
    // src/fabio and src/release steer the canary share of a route by this tag.
    rep.add(
      childPath(sp, 'canary_tags'),
      'a service with routes needs `canary` among its canary_tags: promotions steer Fabio weights to the instances tagged canary',
    );
  }
  (s.routes ?? []).forEach((rt, ri) => {
    const rp = childPath(childPath(sp, 'routes'), ri);
    if ((s.provider ?? 'consul') === 'nomad') rep.add(rp, 'routes need provider consul: Fabio reads the Consul catalog');
    const path = rt.path ?? '/';
    if (!path.startsWith('/')) rep.add(childPath(rp, 'path'), `route prefix \`${path}\` must start with \`/\``);
    else if (/\s/.test(path)) rep.add(childPath(rp, 'path'), `route prefix ${JSON.stringify(path)} must not contain spaces`);
    if (rt.strip !== undefined) {
      if (!rt.strip.startsWith('/')) rep.add(childPath(rp, 'strip'), `\`${rt.strip}\` must start with \`/\``);
      else if (!path.startsWith(rt.strip)) rep.add(childPath(rp, 'strip'), `\`${rt.strip}\` is not a prefix of the route path \`${path}\``);
      else if (/\s/.test(rt.strip)) rep.add(childPath(rp, 'strip'), 'must not contain spaces');
    }
  });
}

/** What Nomad and Consul require of a Connect block (and what would bind a port twice). */
function checkConnect(
  rep: Reporter,
  g: GroupSpec,
  gp: string,
  s: ServiceRegistrationSpec,
  sp: string,
  ports: readonly string[],
  owner: TaskSpec | undefined,
): void {
  const c = s.connect!;
  const cp = childPath(sp, 'connect');
  if (owner !== undefined) {
    rep.add(cp, 'Connect belongs to group services: Nomad runs one proxy per group network; move this service to the group');
    return;
  }
  if ((s.provider ?? 'consul') === 'nomad') rep.add(cp, 'Connect is a Consul feature: it needs provider consul');
  const native = c.native === true;
  if (native && (c.sidecar_service !== undefined || c.sidecar_task !== undefined)) {
    rep.add(childPath(cp, 'native'), 'a Connect-native service has no sidecar: remove `sidecar_service` and `sidecar_task`, or `native`', [
      childPath(cp, 'sidecar_service'),
      childPath(cp, 'sidecar_task'),
    ]);
  } else if (!native && c.sidecar_service === undefined) {
    rep.add(
      cp,
      c.sidecar_task === undefined
        ? 'set `sidecar_service` (a proxy beside the task) or `native: true`'
        : '`sidecar_task` changes the proxy of a `sidecar_service`: add one',
    );
  }
  // Nomad picks a group's only task itself ("ambiguous and must be set" only with several).
  if (native && s.task === undefined && g.tasks.length > 1)
    rep.add(cp, 'a Connect-native service in a group of several tasks needs `task`: the task that speaks Connect');
  const ss = c.sidecar_service;
  if (ss === undefined) return;
  const ssp = childPath(cp, 'sidecar_service');
  if (g.network_mode !== 'bridge') {
    rep.add(
      g.network_mode === undefined ? ssp : childPath(gp, 'network_mode'),
      `a Connect sidecar shares the allocation's network namespace: the group needs \`network_mode: bridge\``,
      [childPath(gp, 'network_mode')],
    );
  }
  const declared = (label: string, at: string): void => {
    if (ports.includes(label)) return;
    const hint = suggest(label, ports);
    rep.add(at, `port \`${label}\` is not declared in ${gp}.ports${hint === undefined ? '' : `; did you mean \`${hint}\`?`}`);
  };
  if (ss.port !== undefined) declared(ss.port, childPath(ssp, 'port'));
  checkMeta(rep, childPath(ssp, 'meta'), ss.meta);
  const pp = childPath(ssp, 'proxy');
  const p = ss.proxy;
  if (p === undefined) return;
  (p.expose?.paths ?? []).forEach((x, i) => declared(x.listener_port, childPath(childPath(childPath(childPath(pp, 'expose'), 'paths'), i), 'listener_port')));
  checkFree(rep, childPath(pp, 'config'), p.config);
  (p.upstreams ?? []).forEach((u, i) => checkFree(rep, childPath(childPath(childPath(pp, 'upstreams'), i), 'config'), u.config));
  const st = c.sidecar_task;
  if (st !== undefined) {
    const stp = childPath(cp, 'sidecar_task');
    checkFree(rep, childPath(stp, 'config'), st.config);
    checkMeta(rep, childPath(stp, 'meta'), st.meta);
    const r = st.resources;
    if (r?.cpu !== undefined && r.cores !== undefined)
      rep.add(childPath(childPath(stp, 'resources'), 'cores'), 'Nomad reserves either `cpu` or `cores`, not both', [
        childPath(childPath(stp, 'resources'), 'cpu'),
      ]);
    if (r?.memory_max !== undefined && r.memory !== undefined && r.memory_max < r.memory)
      rep.add(childPath(childPath(stp, 'resources'), 'memory_max'), `memory_max (${r.memory_max}) must be at least memory (${r.memory})`, [
        childPath(childPath(stp, 'resources'), 'memory'),
      ]);
  }
}

/** The problems of a free-form config (proxy, upstream, sidecar driver), each at its key. */
function checkFree(rep: Reporter, path: string, v: Readonly<Record<string, unknown>> | undefined): void {
  if (v === undefined) return;
  for (const p of checkFreeForm(v))
    rep.add(
      p.path.reduce<string>((at, k) => childPath(at, k), path),
      p.message,
    );
}

/** Workload identities: one default, unique names, signal options that fit. */
function checkIdentities(rep: Reporter, t: TaskSpec, tp: string): void {
  const names = new Map<string, number>();
  (t.identities ?? []).forEach((id, i) => {
    const ip = childPath(childPath(tp, 'identities'), i);
    const key = isDefaultIdentity(id.name) ? 'default' : id.name!;
    const prev = names.get(key);
    if (prev !== undefined)
      rep.add(
        id.name === undefined ? ip : childPath(ip, 'name'),
        key === 'default'
          ? `identities[${prev}] is already the default identity (no name, or \`default\`); give this one a \`name\``
          : `identity name \`${key}\` is already used by identities[${prev}]`,
        // An invalid name was left out: not a second default identity.
        [childPath(ip, 'name')],
      );
    else names.set(key, i);
    if (id.filepath !== undefined && id.file !== true) rep.add(childPath(ip, 'filepath'), '`filepath` says where the token file goes: it needs `file: true`');
    if (id.change_mode === 'signal' && id.change_signal === undefined) rep.add(ip, 'change_mode signal needs a `change_signal`');
    if (id.change_signal !== undefined && id.change_mode !== 'signal') rep.add(childPath(ip, 'change_signal'), 'change_signal needs change_mode `signal`');
  });
}

/** Nomad 1.11 `secret` blocks: options that fit their provider. */
function checkSecretBlocks(rep: Reporter, t: TaskSpec, tp: string): void {
  for (const [name, b] of Object.entries(t.secret_blocks ?? {})) {
    const bp = childPath(childPath(tp, 'secret_blocks'), name);
    const builtIn = b.provider === 'vault' || b.provider === 'nomad';
    if (b.config !== undefined && !builtIn)
      rep.add(childPath(bp, 'config'), `\`config\` holds options of the built-in providers vault and nomad; a plugin (\`${b.provider}\`) takes \`env\``);
    if (b.env !== undefined && builtIn)
      rep.add(childPath(bp, 'env'), `\`env\` is given to custom provider plugins; the ${b.provider} provider takes \`config\``);
  }
}

/**
 * A Connect gateway group (ingress, terminating, mesh): one of its services, given in
 * `nomad: {Services: …}`, has `Connect.Gateway`; Nomad adds the gateway's task itself.
 */
function isGatewayGroup(g: GroupSpec): boolean {
  const services = g.nomad?.['Services'];
  if (!Array.isArray(services)) return false;
  return services.some((s: unknown) => {
    const connect = typeof s === 'object' && s !== null ? (s as Record<string, unknown>)['Connect'] : undefined;
    const gateway = typeof connect === 'object' && connect !== null ? (connect as Record<string, unknown>)['Gateway'] : undefined;
    return typeof gateway === 'object' && gateway !== null;
  });
}

/** The drivers the spec types (task `config` from typed keys); another driver's config is raw. */
const TYPED_DRIVERS: readonly string[] = ['docker', 'exec', 'raw_exec', 'java'];

function checkTask(rep: Reporter, g: GroupSpec, gp: string, t: TaskSpec, tp: string, ports: readonly string[]): void {
  const driver = t.driver ?? 'docker';
  const forDriver = (key: keyof TaskSpec, drivers: readonly string[]): void => {
    const names = drivers.length > 1 ? `${drivers.slice(0, -1).join(', ')} and ${drivers[drivers.length - 1]!}` : drivers.join('');
    if (t[key] !== undefined && !drivers.includes(driver))
      rep.add(childPath(tp, key), `\`${key}\` applies to the ${names} driver${drivers.length > 1 ? 's' : ''}, not ${driver}`);
  };
  // exec and raw_exec run the image's layers, fetched by digest as artifacts (render.ts).
  forDriver('image', ['docker', 'exec', 'raw_exec']);
  forDriver('ports', ['docker']);
  forDriver('docker', ['docker']);
  if (t.docker !== undefined && driver === 'docker') checkDocker(rep, childPath(tp, 'docker'), t.docker);
  (t.services ?? []).forEach((s, si) => {
    const sp = childPath(childPath(tp, 'services'), si);
    if (s.task !== undefined) rep.add(childPath(sp, 'task'), 'a task service belongs to its task; remove `task`');
    if ((s.routes ?? []).length > 0)
      rep.add(childPath(sp, 'routes'), 'routes belong to group services: promotions steer Fabio weights through the group service');
    checkService(rep, rep.r.spec.name, g, gp, s, sp, ports, t);
  });
  forDriver('jar', ['java']);
  forDriver('jvm_options', ['java']);
  forDriver('class', ['java']);
  forDriver('class_path', ['java']);
  if (t.dispatch_payload !== undefined && escapesAllocation(t.dispatch_payload.file))
    rep.add(
      childPath(childPath(tp, 'dispatch_payload'), 'file'),
      `\`${t.dispatch_payload.file}\` leaves the allocation directory (Nomad refuses it); name a file under the task's local/ directory`,
    );
  const csi = t.csi_plugin;
  if (csi !== undefined) {
    // Nomad refuses a staging directory inside the socket directory (both as it fills them in).
    const mount = csi.mount_dir ?? '/csi';
    const stage = csi.stage_publish_base_dir ?? '/local/csi';
    if (stage.startsWith(mount)) {
      const cp = childPath(tp, 'csi_plugin');
      rep.add(
        childPath(cp, csi.stage_publish_base_dir !== undefined ? 'stage_publish_base_dir' : 'mount_dir'),
        `stage_publish_base_dir (${stage}) must not be inside mount_dir (${mount}); Nomad refuses it`,
        [childPath(cp, 'mount_dir')],
      );
    }
  }
  if (driver === 'docker' && t.image === undefined) rep.add(tp, 'a docker task needs an `image`');
  if ((driver === 'exec' || driver === 'raw_exec') && t.command === undefined) rep.add(tp, `an ${driver} task needs a \`command\``);
  if (!TYPED_DRIVERS.includes(driver)) {
    // Another driver (podman, qemu, exec2, a plugin): its configuration is raw. A typo of a typed driver is named.
    const near = suggest(driver, TYPED_DRIVERS);
    const config = t.nomad?.['Config'];
    if (typeof config !== 'object' || config === null || Array.isArray(config) || Object.keys(config).length === 0)
      rep.add(
        childPath(tp, 'driver'),
        near !== undefined && near !== driver
          ? `\`${driver}\` is not one of ${TYPED_DRIVERS.join(', ')}; did you mean \`${near}\`? (another driver takes its configuration in \`nomad: {Config: …}\`)`
          : `the ${driver} driver is not typed (${TYPED_DRIVERS.join(', ')} are): give its configuration in \`nomad: {Config: …}\``,
      );
    for (const key of ['command', 'args'] as const)
      if (t[key] !== undefined) rep.add(childPath(tp, key), `\`${key}\` is not typed for the ${driver} driver; give it in \`nomad: {Config: …}\``);
  }
  if (driver === 'java') {
    if (t.jar === undefined && t.class === undefined) rep.add(tp, 'a java task needs a `jar` (or a `class`)');
    if (t.jar !== undefined && jarPath(t.jar) === undefined) {
      rep.add(
        childPath(childPath(tp, 'jar'), 'source'),
        `\`${t.jar.source}\` names a directory, a repository or an archive, so the jar's file is unknown; set \`jar.path\` to the jar in the task directory, e.g. local/app.jar`,
        [childPath(childPath(tp, 'jar'), 'path')],
      );
    }
    if (t.command !== undefined) rep.add(childPath(tp, 'command'), 'a java task runs its `jar`; `command` is not used');
    // Nomad runs `java [jvm_options] [-cp class_path] -jar <jar> [class] [args]`: beside a jar, `class` is the
    // program's first argument and the JVM ignores -cp. A deliberate policy, with an opt-out.
    if (t.jar !== undefined && t.allow?.jar_and_class === undefined) {
      const keep = ' (to keep it as Nomad runs it: `allow: {jar_and_class: <reason>}`)';
      if (t.class !== undefined)
        rep.add(
          childPath(tp, 'class'),
          `beside a \`jar\`, Nomad runs \`java -jar <jar> ${t.class}\`: the jar's own Main-Class runs and \`class\` is only its first argument; to run this class, fetch the jar with \`artifacts\` and put it on \`class_path\`, or remove \`class\`${keep}`,
        );
      if (t.class_path !== undefined)
        rep.add(
          childPath(tp, 'class_path'),
          `\`java -jar\` ignores the class path, so \`class_path\` does nothing beside a \`jar\`; name the jars in the jar's manifest (Class-Path), or run a \`class\` with \`class_path\` and no \`jar\`${keep}`,
        );
    }
  }
  if (t.image !== undefined && t.image.tag === undefined && t.image.digest === undefined) {
    const ip = childPath(tp, 'image');
    rep.add(ip, 'the image needs a `tag` or a `digest` (there is no implicit latest)', [childPath(ip, 'tag'), childPath(ip, 'digest')]);
  }
  if (t.image?.tag === 'latest' && t.allow?.latest === undefined)
    rep.add(childPath(childPath(tp, 'image'), 'tag'), 'the tag `latest` is not reproducible; name a version or pin a digest');
  (t.ports ?? []).forEach((p, i) => {
    if (!ports.includes(p)) {
      const hint = suggest(p, ports);
      rep.add(childPath(childPath(tp, 'ports'), i), `port \`${p}\` is not declared in ${gp}.ports${hint === undefined ? '' : `; did you mean \`${hint}\`?`}`);
    }
  });
  if (t.lifecycle?.sidecar === true && t.lifecycle.hook === 'poststop') {
    rep.add(childPath(childPath(tp, 'lifecycle'), 'sidecar'), 'a poststop task cannot be a sidecar');
  }
  const r = t.resources;
  if (r?.cpu !== undefined && r.cores !== undefined) {
    rep.add(childPath(childPath(tp, 'resources'), 'cores'), 'Nomad reserves either `cpu` or `cores`, not both', [childPath(childPath(tp, 'resources'), 'cpu')]);
  }
  const names = new Map<string, number>();
  (r?.devices ?? []).forEach((d, i) => {
    const dp = childPath(childPath(childPath(tp, 'resources'), 'devices'), i);
    const prev = names.get(d.name);
    if (prev !== undefined) rep.add(childPath(dp, 'name'), `device \`${d.name}\` is already requested by devices[${prev}]`);
    else names.set(d.name, i);
    checkConstraints(rep, childPath(dp, 'constraints'), d.constraints);
    (d.affinities ?? []).forEach((a, ai) => {
      if (a.weight === 0) rep.add(childPath(childPath(childPath(dp, 'affinities'), ai), 'weight'), 'weight must not be 0');
    });
  });
  const v = t.vault;
  if (v !== undefined) {
    const vp = childPath(tp, 'vault');
    if (v.change_mode === 'signal' && v.change_signal === undefined) rep.add(vp, 'change_mode signal needs a `change_signal`');
    if (v.change_signal !== undefined && v.change_mode !== 'signal') rep.add(childPath(vp, 'change_signal'), 'change_signal needs change_mode `signal`');
  }
  if (r?.memory_max !== undefined && r.memory_max < (r.memory ?? 128)) {
    rep.add(childPath(childPath(tp, 'resources'), 'memory_max'), `memory_max (${r.memory_max}) must be at least memory (${r.memory ?? 128})`, [
      childPath(childPath(tp, 'resources'), 'memory'),
    ]);
  }
  // Mounts name declared volumes.
  const volumes = Object.keys(g.volumes ?? {});
  (t.mounts ?? []).forEach((m, i) => {
    if (!volumes.includes(m.volume)) {
      const hint = suggest(m.volume, volumes);
      rep.add(
        childPath(childPath(childPath(tp, 'mounts'), i), 'volume'),
        `volume \`${m.volume}\` is not declared in ${gp}.volumes${hint === undefined ? '' : `; did you mean \`${hint}\`?`}`,
      );
    }
  });
  // Variables and files: one name, one source.
  const envNames = new Map<string, string>();
  for (const k of Object.keys(t.env ?? {})) envNames.set(k, childPath(childPath(tp, 'env'), k));
  const files = new Map<string, string>();
  const claimEnv = (name: string, p: string): void => {
    const prev = envNames.get(name);
    if (prev !== undefined) rep.add(p, `variable \`${name}\` is already set by ${rep.r.origin(prev).subject}`);
    else envNames.set(name, p);
  };
  const claimFile = (dest: string, p: string): void => {
    const prev = files.get(taskFile(dest));
    if (prev !== undefined) rep.add(p, `file \`${dest}\` is already written by ${rep.r.origin(prev).subject}`);
    else files.set(taskFile(dest), p);
  };
  const source = (kind: 'secrets' | 'kv', i: number, e: { env?: string; file?: string }): void => {
    const p = childPath(childPath(tp, kind), i);
    if ((e.env === undefined) === (e.file === undefined)) rep.add(p, 'set exactly one of `env` and `file`');
    if (e.env !== undefined) claimEnv(e.env, childPath(p, 'env'));
    if (e.file !== undefined) claimFile(e.file, childPath(p, 'file'));
  };
  (t.secrets ?? []).forEach((s, i) => {
    source('secrets', i, s);
    const segments = s.path.split('/');
    if (segments.some((seg) => seg === '.' || seg === '..')) {
      rep.add(childPath(childPath(childPath(tp, 'secrets'), i), 'path'), `\`${s.path}\` must not contain . or .. segments`);
    }
    if (s.params !== undefined && !isVaultWritePath(s.path)) {
      // consul-template turns parameters into a write: on a KV path that would overwrite the secret.
      rep.add(
        childPath(childPath(childPath(tp, 'secrets'), i), 'params'),
        `parameters are sent as a write, so they are only for PKI \`<mount>/issue/<role>\` or \`<mount>/sign/<role>\` paths; \`${s.path}\` is read`,
      );
    }
  });
  (t.kv ?? []).forEach((k, i) => {
    source('kv', i, k);
    if (k.key.split('/').some((seg) => seg === '.' || seg === '..')) {
      rep.add(childPath(childPath(childPath(tp, 'kv'), i), 'key'), `\`${k.key}\` must not contain . or .. segments`);
    }
  });
  if ((t.secrets ?? []).some((s) => s.env !== undefined) || (t.kv ?? []).some((k) => k.env !== undefined)) {
    claimFile('secrets/hashiship.env', childPath(tp, 'secrets'));
  }
  (t.templates ?? []).forEach((tpl, i) => {
    const p = childPath(childPath(tp, 'templates'), i);
    claimFile(tpl.destination, childPath(p, 'destination'));
    if ((tpl.data === undefined) === (tpl.source === undefined))
      rep.add(p, 'set exactly one of `data` and `source`', [childPath(p, 'data'), childPath(p, 'source')]);
    const min = dur(tpl.wait?.min);
    const max = dur(tpl.wait?.max);
    if (min !== undefined && max !== undefined && min > max)
      rep.add(childPath(childPath(p, 'wait'), 'min'), `wait.min (${tpl.wait!.min!}) must not exceed wait.max (${tpl.wait!.max!})`, [
        childPath(childPath(p, 'wait'), 'max'),
      ]);
    if ((tpl.change_mode ?? 'restart') === 'signal' && tpl.change_signal === undefined) rep.add(p, 'change_mode signal needs a `change_signal`');
    if (tpl.change_signal !== undefined && tpl.change_mode !== 'signal') rep.add(childPath(p, 'change_signal'), 'change_signal needs change_mode `signal`');
  });
  // Plain values are stored in the job in clear text: secrets come from Vault.
  const fromVault = 'read it from Vault with `secrets` instead of writing the value here';
  let execBytes = 0;
  for (const [k, v] of Object.entries(t.env ?? {})) {
    const ep = childPath(childPath(tp, 'env'), k);
    const optedOut = t.allow?.env?.[k] !== undefined; // `allow.env` carries the reason
    if (!optedOut && v !== '' && SECRET_KEY.test(k) && !TEMPLATED.test(v)) rep.add(ep, `\`${k}\` looks like a secret; ${fromVault}`);
    else if (!optedOut) {
      const what = secretIn(v);
      if (what !== undefined) rep.add(ep, `the value of \`${k}\` looks like ${what}; ${fromVault}`);
    }
    const bytes = Buffer.byteLength(k) + 1 + Buffer.byteLength(v) + 1;
    execBytes += bytes;
    if (bytes > MAX_ARG_STRLEN)
      rep.add(
        ep,
        `\`${k}=…\` is ${bytes} bytes; Linux refuses to start a process with a variable over ${MAX_ARG_STRLEN} bytes (MAX_ARG_STRLEN): put large data in a file (\`templates\`)`,
      );
  }
  checkArgs(rep, childPath(tp, 'args'), t.args);
  for (const a of t.args ?? []) execBytes += Buffer.byteLength(a) + 1;
  if (execBytes > ARG_MAX)
    rep.add(tp, `the task's arguments and variables add up to ${execBytes} bytes; Linux refuses to start a process with more than ${ARG_MAX} (ARG_MAX)`);
  (t.templates ?? []).forEach((tpl, i) => {
    const data = tpl.data ?? '';
    const what = secretIn(data) ?? (SECRET_ASSIGNMENT.test(data) ? 'a password written in clear text' : undefined);
    if (what !== undefined) {
      rep.add(
        childPath(childPath(childPath(tp, 'templates'), i), 'data'),
        `the template text holds ${what}; the job stores it in clear text: read it from Vault in the template ({{ with secret "…" }}) or with \`secrets\``,
      );
    }
  });
  checkMeta(rep, childPath(tp, 'meta'), t.meta);
  checkConstraints(rep, childPath(tp, 'constraints'), t.constraints);
  checkIdentities(rep, t, tp);
  checkSecretBlocks(rep, t, tp);
}

/** What Nomad's docker driver refuses in its `config` (or ignores in a way that surprises). */
function checkDocker(rep: Reporter, dp: string, d: DockerSpec): void {
  (d.mount ?? []).forEach((m, i) => {
    const mp = childPath(childPath(dp, 'mount'), i);
    const type = m.type ?? 'volume';
    const options = { bind: 'bind_options', volume: 'volume_options', tmpfs: 'tmpfs_options' } as const;
    for (const [t, key] of Object.entries(options)) {
      if (t !== type && m[key] !== undefined) rep.add(childPath(mp, key), `\`${key}\` applies to ${t} mounts, not ${type}`);
    }
    if (type === 'bind' && m.source === undefined) rep.add(mp, 'a bind mount needs a `source` (the host path, or a path in the task directory)');
    if (type === 'tmpfs' && m.source !== undefined) rep.add(childPath(mp, 'source'), 'a tmpfs mount has no `source`');
  });
  if (d.hostname !== undefined && d.network_mode === 'host')
    rep.add(childPath(dp, 'hostname'), 'Docker refuses a `hostname` with network_mode host', [childPath(dp, 'network_mode')]);
  for (const [k, v] of Object.entries(d.ulimit ?? {})) {
    const [soft, hard] = v.split(':').map(Number);
    if (hard !== undefined && soft !== undefined && hard !== -1 && (soft === -1 || soft > hard))
      rep.add(childPath(childPath(dp, 'ulimit'), k), `the soft limit of ${k} (${v}) must not exceed its hard limit`);
  }
  for (const [k, v] of Object.entries(d.labels ?? {})) {
    const why = secretLooking(k, v);
    if (why !== undefined)
      rep.add(childPath(childPath(dp, 'labels'), k), `${why}; container labels are stored in the job and shown by docker inspect: keep secrets in Vault`);
  }
}

/** Secrets in command-line arguments: visible in the job and in every process list. */
function checkArgs(rep: Reporter, path: string, args: readonly string[] | undefined): void {
  (args ?? []).forEach((a, i) => {
    const ap = childPath(path, i);
    const eq = a.indexOf('=');
    const flag = eq > 0 ? a.slice(0, eq) : undefined;
    const value = eq > 0 ? a.slice(eq + 1) : a;
    const prev = i > 0 ? args![i - 1]! : '';
    const what = secretIn(a);
    if (what !== undefined)
      rep.add(
        ap,
        `the argument looks like ${what}; arguments are visible in the job and in process lists: read it from Vault with \`secrets\` (as a file or a variable)`,
      );
    else if (
      value !== '' &&
      !TEMPLATED.test(value) &&
      ((flag !== undefined && SECRET_FLAG.test(flag)) || (flag === undefined && SECRET_FLAG.test(prev) && !a.startsWith('-')))
    ) {
      rep.add(
        ap,
        `the argument passes a secret (\`${excerpt(flag ?? prev, 40)}\`); arguments are visible in the job and in process lists: read it from Vault with \`secrets\` (as a file or a variable)`,
      );
    }
    if (Buffer.byteLength(a) + 1 > MAX_ARG_STRLEN)
      rep.add(
        ap,
        `the argument is ${Buffer.byteLength(a)} bytes; Linux refuses to start a process with an argument over ${MAX_ARG_STRLEN} bytes (MAX_ARG_STRLEN)`,
      );
  });
}

/** Secrets in meta: stored in the job and shown by `nomad job inspect` to anyone who can read it. */
function checkMeta(rep: Reporter, path: string, meta: Readonly<Record<string, string>> | undefined): void {
  for (const [k, v] of Object.entries(meta ?? {})) {
    const why = TEMPLATED.test(v) ? undefined : secretLooking(k, v);
    if (why !== undefined) rep.add(childPath(path, k), `${why}; meta is stored in the job in clear text: keep secrets in Vault (task \`secrets\`)`);
  }
}

function checkGroup(rep: Reporter, job: ResolvedService['spec'], g: GroupSpec, gi: number): void {
  const gp = childPath('groups', gi);
  const type = job.type ?? 'service';
  const ports = Object.keys(g.ports ?? {});
  const count = g.count ?? 1;

  // The group's rollout: its own `update` fields, else the job's; each problem at the field that set it.
  const eff = effectiveUpdate(job, g);
  const upath = (key: keyof UpdateSpec): string =>
    g.update?.[key] === undefined && job.update?.[key] !== undefined ? childPath('update', key) : childPath(childPath(gp, 'update'), key);
  if (type === 'system' || type === 'sysbatch') {
    if (g.count !== undefined) rep.add(childPath(gp, 'count'), `${type} jobs run one allocation per node; remove \`count\``);
    if (g.scaling !== undefined) rep.add(childPath(gp, 'scaling'), `${type} jobs cannot scale; remove \`scaling\``);
    if (g.reschedule !== undefined) rep.add(childPath(gp, 'reschedule'), `${type} jobs are not rescheduled; remove \`reschedule\``);
    if ((eff?.canary ?? 0) > 0) rep.add(upath('canary'), 'system jobs cannot have canaries');
  }
  if (!hasUpdate(job) && g.update !== undefined) rep.add(childPath(gp, 'update'), `\`update\` applies to service and system jobs, not ${type}`);
  if (type !== 'service' && g.migrate !== undefined) rep.add(childPath(gp, 'migrate'), `\`migrate\` applies to service jobs, not ${type}`);

  if (g.tasks.length === 0 && !isGatewayGroup(g))
    rep.add(
      childPath(gp, 'tasks'),
      'a group needs a task (Nomad refuses a group without one: "Missing tasks for task group"); only a Connect gateway group has none, Nomad adds its task',
    );
  if (!g.tasks.some(isMainTask) && g.tasks.length > 0) rep.add(childPath(gp, 'tasks'), 'the group needs at least one main task (a task without `lifecycle`)');
  const taskNames = new Map<string, number>();
  g.tasks.forEach((t, ti) => {
    const tp = childPath(childPath(gp, 'tasks'), ti);
    const prev = taskNames.get(t.name);
    if (prev !== undefined) rep.add(childPath(tp, 'name'), `task name \`${t.name}\` is already used by tasks[${prev}]`);
    else taskNames.set(t.name, ti);
    checkTask(rep, g, gp, t, tp, ports);
  });

  // Ports.
  const statics = new Map<number, string>();
  for (const [label, p] of Object.entries(g.ports ?? {})) {
    if (p.static === undefined) continue;
    const prev = statics.get(p.static);
    const pp = childPath(childPath(childPath(gp, 'ports'), label), 'static');
    if (prev !== undefined) rep.add(pp, `static port ${p.static} is already used by port \`${prev}\``);
    else statics.set(p.static, label);
  }
  for (const [label, p] of Object.entries(g.ports ?? {})) {
    if (p.to === 0)
      rep.add(childPath(childPath(childPath(gp, 'ports'), label), 'to'), "`to: 0` maps nothing; omit `to`, or write -1 for the host port's own number");
  }
  // A port is published by one task at most: two containers cannot bind one host port.
  const publishers = new Map<string, string>();
  const implicit = rep.r.environment?.defaults?.publish_ports !== 'listed';
  g.tasks.forEach((t, ti) => {
    for (const label of publishedPorts(g, t, implicit)) {
      const prev = publishers.get(label);
      const i = (t.ports ?? []).indexOf(label);
      const at = childPath(childPath(childPath(gp, 'tasks'), ti), 'ports');
      if (prev !== undefined)
        rep.add(i < 0 ? at : childPath(at, i), `port \`${label}\` is already published by task \`${prev}\`; two containers cannot bind one host port`);
      else publishers.set(label, t.name);
    }
  });

  // A port a Connect sidecar proxy listens on is bound by Nomad's proxy task, never by another task.
  const proxyPorts = connectPorts(g, gp);
  g.tasks.forEach((t, ti) => {
    (t.ports ?? []).forEach((label, i) => {
      const at = proxyPorts.get(label);
      if (at !== undefined)
        rep.add(
          childPath(childPath(childPath(childPath(gp, 'tasks'), ti), 'ports'), i),
          `port \`${label}\` is the Connect proxy's (${rep.r.origin(at).subject}); two processes cannot bind one port`,
        );
    });
  });
  // Upstream listeners share the allocation's network namespace: one port, one listener.
  const binds = new Map<string, string>();
  (g.services ?? []).forEach((s, si) => {
    (s.connect?.sidecar_service?.proxy?.upstreams ?? []).forEach((u, ui) => {
      const up = childPath(
        childPath(childPath(childPath(childPath(childPath(childPath(gp, 'services'), si), 'connect'), 'sidecar_service'), 'proxy'), 'upstreams'),
        ui,
      );
      const key = `${u.local_bind_address ?? '127.0.0.1'}:${u.local_bind_port}`;
      const prev = binds.get(key);
      if (prev !== undefined) rep.add(childPath(up, 'local_bind_port'), `${key} is already the listener of ${rep.r.origin(prev).subject}`);
      else binds.set(key, up);
    });
  });
  (g.services ?? []).forEach((s, si) => checkService(rep, job.name, g, gp, s, childPath(childPath(gp, 'services'), si), ports));
  checkMeta(rep, childPath(gp, 'meta'), g.meta);
  // Nomad: all services of a group use the same provider.
  const providers = (g.services ?? []).map((s) => s.provider ?? 'consul');
  const mixed = providers.findIndex((p) => p !== providers[0]);
  if (mixed > 0) {
    const sp = childPath(childPath(gp, 'services'), mixed);
    rep.add(
      g.services![mixed]!.provider === undefined ? sp : childPath(sp, 'provider'),
      `provider \`${providers[mixed]}\` differs from services[0] (\`${providers[0]}\`); the services of a group use one provider`,
    );
  }

  // Rollout.
  const u = eff;
  if (u !== undefined && hasUpdate(job)) {
    const canary = u.canary ?? 0;
    if (type !== 'system' && canary > count) {
      rep.add(upath('canary'), `canary (${canary}) must not exceed count (${count})`, [childPath(gp, 'count')]);
    }
    if (u.auto_promote === true && canary === 0) rep.add(upath('auto_promote'), 'auto_promote needs canary > 0', [upath('canary')]);
    const min = dur(u.min_healthy_time) ?? 10e9;
    const healthy = dur(u.healthy_deadline) ?? 300e9;
    const progress = dur(u.progress_deadline) ?? 600e9;
    if (min >= healthy) {
      rep.add(
        upath(u.min_healthy_time !== undefined ? 'min_healthy_time' : 'healthy_deadline'),
        `min_healthy_time (${u.min_healthy_time ?? '10s'}) must be shorter than healthy_deadline (${u.healthy_deadline ?? '5m'})`,
        [upath('healthy_deadline')],
      );
    }
    if (progress !== 0 && healthy >= progress) {
      rep.add(
        upath(u.progress_deadline !== undefined ? 'progress_deadline' : 'healthy_deadline'),
        `healthy_deadline (${u.healthy_deadline ?? '5m'}) must be shorter than progress_deadline (${u.progress_deadline ?? '10m'})`,
        [upath('healthy_deadline')],
      );
    }
  }

  // Volumes.
  for (const [name, v] of Object.entries(g.volumes ?? {})) {
    const vp = childPath(childPath(gp, 'volumes'), name);
    if (v.mount_options !== undefined && (v.type === 'host' || v.attachment_mode === 'block-device'))
      rep.add(childPath(vp, 'mount_options'), 'mount_options apply to csi volumes with attachment_mode file-system');
    if (v.type === 'host') {
      // Dynamic host volumes (Nomad ≥ 1.10) take single-node access modes; a host volume never spans nodes.
      if (v.access_mode?.startsWith('multi-node') === true)
        rep.add(childPath(vp, 'access_mode'), `\`${v.access_mode}\` applies to csi volumes; a host volume takes a single-node mode`);
    } else {
      if (v.access_mode === undefined) rep.add(vp, 'a csi volume needs an `access_mode`');
      else if (v.access_mode === 'single-node-single-writer' || v.access_mode === 'single-node-multi-writer')
        rep.add(
          childPath(vp, 'access_mode'),
          `\`${v.access_mode}\` applies to host volumes; a csi volume takes single-node-writer, single-node-reader-only or a multi-node mode`,
        );
      if (v.attachment_mode === undefined) rep.add(vp, 'a csi volume needs an `attachment_mode`');
      if ((v.access_mode === 'single-node-reader-only' || v.access_mode === 'multi-node-reader-only') && v.read_only !== true) {
        rep.add(vp, `a ${v.access_mode} volume needs \`read_only: true\``);
      }
      const oneWriter = v.access_mode?.startsWith('single-node') === true || (v.access_mode === 'multi-node-single-writer' && v.read_only !== true);
      if (oneWriter && count > 1 && v.per_alloc !== true) {
        rep.add(
          v.per_alloc === undefined ? vp : childPath(vp, 'per_alloc'),
          `a ${v.access_mode} volume used by ${count} allocations needs \`per_alloc: true\``,
          [childPath(gp, 'count')],
        );
      }
    }
    if (v.per_alloc === true) {
      const canary = hasUpdate(job) ? (eff?.canary ?? 0) : 0;
      if (type === 'system') rep.add(childPath(vp, 'per_alloc'), 'per_alloc volumes are not for system jobs');
      else if (canary > 0) {
        rep.add(childPath(vp, 'per_alloc'), `per_alloc volumes cannot be used with canaries (canary ${canary}); use a rolling update`, [upath('canary')]);
      }
    }
    if (!g.tasks.some((t) => (t.mounts ?? []).some((m) => m.volume === name))) {
      rep.add(vp, `volume \`${name}\` is not mounted by any task`);
    }
  }

  // Scaling.
  const sc = g.scaling;
  if (sc !== undefined) {
    const sp = childPath(gp, 'scaling');
    const min = sc.min ?? count;
    if (sc.min !== undefined && sc.min > sc.max) rep.add(childPath(sp, 'min'), `min (${sc.min}) must not exceed max (${sc.max})`, [childPath(sp, 'max')]);
    if (count > sc.max) rep.add(childPath(gp, 'count'), `count (${count}) must not exceed scaling.max (${sc.max})`, [childPath(sp, 'max')]);
    else if (sc.min !== undefined && count < min)
      rep.add(childPath(gp, 'count'), `count (${count}) must not be below scaling.min (${min})`, [childPath(sp, 'min')]);
    const names = new Set<string>();
    (sc.policy?.checks ?? []).forEach((c, i) => {
      if (names.has(c.name)) rep.add(childPath(childPath(childPath(childPath(sp, 'policy'), 'checks'), i), 'name'), `check name \`${c.name}\` is used twice`);
      names.add(c.name);
      if (c.strategy.name === 'target-value' && c.strategy.target === undefined) {
        rep.add(childPath(childPath(childPath(childPath(sp, 'policy'), 'checks'), i), 'strategy'), 'the target-value strategy needs a `target`');
      }
    });
  }

  // Each task's logs fit the disk (Nomad: log storage must be less than the disk).
  const disk = g.ephemeral_disk?.size ?? DEFAULT_DISK_MB;
  g.tasks.forEach((t, ti) => {
    const logs = t.logs === undefined ? DEFAULT_LOG_MB : (t.logs.max_files ?? 10) * (t.logs.max_file_size ?? 10);
    if (logs < disk) return;
    const tp = childPath(childPath(gp, 'tasks'), ti);
    rep.add(
      t.logs === undefined ? childPath(childPath(gp, 'ephemeral_disk'), 'size') : childPath(tp, 'logs'),
      `task \`${t.name}\` keeps ${logs} MB of logs, which must be less than the ephemeral disk (${disk} MB)`,
      [childPath(childPath(gp, 'ephemeral_disk'), 'size')],
    );
  });

  // Placement.
  checkConstraints(rep, childPath(gp, 'constraints'), g.constraints);
  (g.affinities ?? []).forEach((a, i) => {
    if (a.weight === 0) rep.add(childPath(childPath(childPath(gp, 'affinities'), i), 'weight'), 'weight must not be 0');
  });
  (g.spread ?? []).forEach((s, i) => {
    const total = Object.values(s.targets ?? {}).reduce((x, y) => x + y, 0);
    if (total > 100) rep.add(childPath(childPath(childPath(gp, 'spread'), i), 'targets'), `target percentages add up to ${total}, more than 100`);
  });
}

/** The problems of a `nomad:` escape-hatch block, each at its field's place. */
function checkNomadBlock(rep: Reporter, path: string, level: RawLevel, raw: unknown): void {
  if (raw === undefined) return;
  for (const p of checkRaw(level, raw)) {
    rep.add(
      p.path.reduce<string>((at, k) => childPath(at, k), path),
      p.message,
    );
  }
}

/** A group's rollout as rendered: its own `update` fields over the job's; undefined when neither has one. */
function effectiveUpdate(job: ResolvedService['spec'], g: GroupSpec): UpdateSpec | undefined {
  if (job.update === undefined) return g.update;
  const own = Object.fromEntries(Object.entries(g.update ?? {}).filter(([, v]) => v !== undefined));
  return { ...job.update, ...own };
}

/**
 * Whether a file under the task's `local/` leaves the allocation directory
 * (Nomad's `PathEscapesAllocViaRelative("task/local/", file)`: the task directory
 * sits two levels below the allocation's).
 */
export function escapesAllocation(file: string): boolean {
  const parts: string[] = ['task', 'local'];
  for (const seg of file.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length === 0) return true;
      parts.pop();
    } else parts.push(seg);
  }
  return false;
}

/** Semantic problems of one service (on its own or merged with an environment). */
export function checkResolved(r: ResolvedService): InputProblem[] {
  const rep = new Reporter(r);
  const job = r.spec;
  const type = job.type ?? 'service';
  if (type === 'periodic' && job.periodic === undefined) rep.add('', 'a periodic job needs a `periodic` block with a `cron`');
  if (type !== 'periodic' && type !== 'sysbatch' && job.periodic !== undefined)
    rep.add('periodic', `\`periodic\` applies to periodic and sysbatch jobs, not ${type}`);
  if (type === 'sysbatch' && job.periodic !== undefined && job.parameterized !== undefined)
    rep.add('periodic', 'a parameterized job is started by dispatch, not on a schedule: remove `periodic` or `parameterized`', ['parameterized']);
  if (job.update !== undefined && !hasUpdate(job)) rep.add('update', `\`update\` applies to service and system jobs, not ${type}`);
  if (job.migrate !== undefined && type !== 'service') rep.add('migrate', `\`migrate\` applies to service jobs, not ${type}`);
  const p = job.periodic;
  if (p !== undefined) {
    if ((p.cron === undefined) === (p.crons === undefined)) rep.add('periodic', 'set exactly one of `cron` and `crons`', ['periodic.cron', 'periodic.crons']);
    if (p.cron !== undefined) checkCron(rep, 'periodic.cron', p.cron);
    (p.crons ?? []).forEach((c, i) => checkCron(rep, childPath('periodic.crons', i), c));
  }
  if (job.parameterized !== undefined) {
    // Nomad: only batch and sysbatch jobs are dispatched, and never on a schedule.
    if (type !== 'batch' && type !== 'sysbatch') rep.add('parameterized', `\`parameterized\` applies to batch and sysbatch jobs, not ${type}`);
    const required = new Set(job.parameterized.meta_required ?? []);
    (job.parameterized.meta_optional ?? []).forEach((k, i) => {
      if (required.has(k)) rep.add(childPath('parameterized.meta_optional', i), `\`${k}\` is already in meta_required`);
    });
  }
  if ((type === 'system' || type === 'sysbatch') && job.affinities !== undefined) rep.add('affinities', `${type} jobs cannot have affinities`);
  checkConstraints(rep, 'constraints', job.constraints);
  checkMeta(rep, 'meta', job.meta);
  // A system job runs every group on every node: two groups cannot claim one static port.
  const staticPorts = new Map<string, string>();
  if (type === 'system')
    job.groups.forEach((g, gi) => {
      for (const [label, p] of Object.entries(g.ports ?? {})) {
        if (p.static === undefined) continue;
        const key = `${p.host_network ?? 'default'}:${p.static}`;
        const pp = childPath(childPath(childPath(childPath('groups', gi), 'ports'), label), 'static');
        const prev = staticPorts.get(key);
        if (prev !== undefined && !prev.startsWith(`groups[${gi}].`))
          rep.add(pp, `static port ${p.static} is already claimed by ${prev}; a system job runs every group on every node, so they would collide`);
        else if (prev === undefined) staticPorts.set(key, pp);
      }
    });
  const groupNames = new Map<string, number>();
  job.groups.forEach((g, gi) => {
    const prev = groupNames.get(g.name);
    if (prev !== undefined) rep.add(childPath(childPath('groups', gi), 'name'), `group name \`${g.name}\` is already used by groups[${prev}]`);
    else groupNames.set(g.name, gi);
    checkGroup(rep, job, g, gi);
  });
  checkNomadBlock(rep, 'nomad', 'Job', job.nomad);
  job.groups.forEach((g, gi) => {
    const gp = childPath('groups', gi);
    checkNomadBlock(rep, childPath(gp, 'nomad'), 'TaskGroup', g.nomad);
    g.tasks.forEach((t, ti) => checkNomadBlock(rep, childPath(childPath(childPath(gp, 'tasks'), ti), 'nomad'), 'Task', t.nomad));
  });
  return rep.problems;
}
