/**
 * `status`: per job of an environment its version, image digest, latest
 * deployment, healthy/desired counts and Consul health. Reads only.
 */
import { escapeText } from '../errors.js';
import type { ConsulClient } from '../consul/client.js';
import type { LiveJob } from '../nomad/jobs.js';
import { consulServicesOf, allocOfServiceId, type ConsulCheck } from './checks.js';
import { locateJobs, type JobRef } from './deploy.js';
import { imagesOf, type TaskImage } from './plan.js';
import { inNamespace, type DeployContext } from './runtime.js';

/** One row of `status`. */
export interface JobStatus {
  readonly job: string;
  /** The Nomad namespace the job was looked up in. */
  readonly namespace: string;
  /** pending, running, dead; `missing` when a named job does not exist. */
  readonly status: string;
  readonly version?: number;
  readonly images: readonly TaskImage[];
  readonly deployment?: { readonly id: string; readonly version: number; readonly status: string; readonly description: string };
  readonly healthy: number;
  readonly desired: number;
  /** Checks of this job's running allocations in Consul; undefined when it registers no Consul service. */
  readonly consul?: { readonly passing: number; readonly warning: number; readonly critical: number };
}

async function consulHealth(consul: ConsulClient, services: readonly string[], allocs: ReadonlySet<string>): Promise<JobStatus['consul']> {
  const counts = { passing: 0, warning: 0, critical: 0 };
  for (const service of services) {
    const rows = (await consul.call('health.checks', (api) => api.health.checks({ service }))) as unknown as ConsulCheck[];
    for (const r of rows) {
      const alloc = allocOfServiceId(r.ServiceID);
      if (alloc === undefined || !allocs.has(alloc)) continue;
      if (r.Status === 'passing') counts.passing++;
      else if (r.Status === 'warning') counts.warning++;
      else counts.critical++;
    }
  }
  return counts;
}

async function statusOfJob(ctx0: DeployContext, { id, namespace }: JobRef): Promise<JobStatus> {
  const ctx = inNamespace(ctx0, namespace);
  const live: LiveJob | undefined = await ctx.nomad.jobs.get(id);
  if (live === undefined) return { job: id, namespace, status: 'missing', images: [], healthy: 0, desired: 0 };
  const [deployment, allocs] = await Promise.all([ctx.nomad.jobs.latestDeployment(id), ctx.nomad.allocations.ofJob(id)]);
  const running = allocs.data.filter((a) => a.ClientStatus === 'running' && a.DesiredStatus === 'run');
  const current = deployment !== undefined && deployment.JobVersion === live.Version ? deployment : undefined;
  let healthy: number;
  let desired: number;
  if (current !== undefined) {
    const groups = Object.values(current.TaskGroups ?? {});
    healthy = groups.reduce((n, g) => n + (g.HealthyAllocs ?? 0), 0);
    desired = groups.reduce((n, g) => n + (g.DesiredTotal ?? 0), 0);
  } else {
    healthy = running.length;
    desired = live.Stop === true ? 0 : (live.TaskGroups ?? []).reduce((n, g) => n + (g.Count ?? 1), 0);
  }
  const services = consulServicesOf(live);
  const consul =
    ctx.consul === undefined || services.length === 0
      ? undefined
      : await consulHealth(ctx.consul.client, services, new Set(running.map((a) => a.ID))).catch(() => undefined);
  return {
    job: id,
    namespace,
    status: live.Stop === true ? 'stopped' : (live.Status ?? 'unknown'),
    version: live.Version,
    images: imagesOf(live),
    ...(deployment === undefined
      ? {}
      : { deployment: { id: deployment.ID, version: deployment.JobVersion, status: deployment.Status, description: deployment.StatusDescription } }),
    healthy,
    desired,
    ...(consul === undefined ? {} : { consul }),
  };
}

/**
 * The status of the named jobs, or of every job hashiship owns in the
 * environment, each read in its own namespace (see {@link locateJobs}).
 * @throws {ServerError} when Nomad cannot be reached.
 */
export async function environmentStatus(ctx: DeployContext, environment: string, jobIds: readonly string[] = []): Promise<JobStatus[]> {
  const refs = await locateJobs(ctx, environment, jobIds);
  return Promise.all(refs.map((r) => statusOfJob(ctx, r)));
}

/** The status rows as an aligned table. */
export function formatStatus(rows: readonly JobStatus[]): string {
  const table = [
    ['JOB', 'NAMESPACE', 'STATUS', 'VERSION', 'DEPLOYMENT', 'HEALTHY', 'CONSUL', 'IMAGE'],
    ...rows.map((r) => [
      r.job,
      r.namespace,
      r.status,
      r.version === undefined ? '-' : String(r.version),
      r.deployment === undefined ? '-' : `${r.deployment.status} (v${r.deployment.version})`,
      `${r.healthy}/${r.desired}`,
      r.consul === undefined
        ? '-'
        : `${r.consul.passing} passing${r.consul.warning > 0 ? `, ${r.consul.warning} warning` : ''}${r.consul.critical > 0 ? `, ${r.consul.critical} critical` : ''}`,
      r.images.length === 0 ? '-' : r.images.map((i) => (i.digest === undefined ? `${i.image} (unpinned)` : i.digest.slice(0, 19))).join(', '),
    ]),
  ];
  // Cells hold what Nomad and Consul answered: escaped to one line each (a line break or an escape sequence in a
  // job's image reference must not forge a row or reach the terminal), before they are measured.
  for (const row of table) for (let i = 0; i < row.length; i++) row[i] = escapeText(row[i]!);
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return (
    table
      .map((row) =>
        row
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
