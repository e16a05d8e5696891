/**
 * A Grafana dashboard for a hashiship cluster: cluster health (targets up, raft
 * leaders and autopilot health, Vault seal state, Nomad client nodes) and
 * deployments (Nomad job summaries, allocation restarts, Fabio's traffic), over
 * the metrics the Prometheus configuration of {@link prometheusConfig} collects.
 * Metric names assume `disable_hostname = true` and Fabio's `metrics.prefix = fabio`,
 * as hashiship's agent configs set.
 */

/** One panel: a title, PromQL expressions and how to draw them. */
export interface PanelSpec {
  readonly title: string;
  readonly kind: 'stat' | 'timeseries';
  readonly exprs: readonly { readonly expr: string; readonly legend: string }[];
  readonly unit?: string;
}

/** The rows of the dashboard, in order. */
export const dashboardRows: readonly { readonly title: string; readonly panels: readonly PanelSpec[] }[] = [
  {
    title: 'Cluster health',
    panels: [
      { title: 'Targets up', kind: 'stat', exprs: [{ expr: 'sum by (job) (up)', legend: '{{job}}' }] },
      { title: 'Targets down', kind: 'stat', exprs: [{ expr: 'count by (job) (up == 0)', legend: '{{job}}' }] },
      { title: 'Consul autopilot healthy', kind: 'stat', exprs: [{ expr: 'max(consul_autopilot_healthy)', legend: 'consul' }] },
      { title: 'Nomad autopilot healthy', kind: 'stat', exprs: [{ expr: 'max(nomad_nomad_autopilot_healthy)', legend: 'nomad' }] },
      { title: 'Vault unsealed servers', kind: 'stat', exprs: [{ expr: 'sum(vault_core_unsealed)', legend: 'vault' }] },
      {
        title: 'Raft leader last contact',
        kind: 'timeseries',
        unit: 'ms',
        exprs: [
          { expr: 'max(consul_raft_leader_lastContact{quantile="0.99"})', legend: 'consul p99' },
          { expr: 'max(nomad_raft_leader_lastContact{quantile="0.99"})', legend: 'nomad p99' },
        ],
      },
      {
        title: 'Nomad client resources allocated',
        kind: 'timeseries',
        unit: 'percentunit',
        exprs: [
          { expr: 'sum(nomad_client_allocated_cpu) / (sum(nomad_client_allocated_cpu) + sum(nomad_client_unallocated_cpu))', legend: 'cpu' },
          {
            expr: 'sum(nomad_client_allocated_memory) / (sum(nomad_client_allocated_memory) + sum(nomad_client_unallocated_memory))',
            legend: 'memory',
          },
        ],
      },
    ],
  },
  {
    title: 'Deployments',
    panels: [
      {
        title: 'Running allocations by job',
        kind: 'timeseries',
        exprs: [{ expr: 'sum by (exported_job) (nomad_nomad_job_summary_running)', legend: '{{exported_job}}' }],
      },
      {
        title: 'Failed and lost allocations by job',
        kind: 'timeseries',
        exprs: [
          { expr: 'sum by (exported_job) (nomad_nomad_job_summary_failed)', legend: '{{exported_job}} failed' },
          { expr: 'sum by (exported_job) (nomad_nomad_job_summary_lost)', legend: '{{exported_job}} lost' },
        ],
      },
      {
        title: 'Queued allocations',
        kind: 'timeseries',
        exprs: [{ expr: 'sum by (exported_job) (nomad_nomad_job_summary_queued)', legend: '{{exported_job}}' }],
      },
      {
        title: 'Task restarts (5 m)',
        kind: 'timeseries',
        exprs: [{ expr: 'sum by (exported_job, task) (increase(nomad_client_allocs_restart[5m]))', legend: '{{exported_job}}/{{task}}' }],
      },
      {
        title: 'Fabio requests per second by service',
        kind: 'timeseries',
        unit: 'reqps',
        exprs: [{ expr: 'sum by (service) (rate(fabio_route_count[1m]))', legend: '{{service}}' }],
      },
      {
        title: 'Service targets up',
        kind: 'timeseries',
        exprs: [{ expr: 'sum by (service) (up{job="services"})', legend: '{{service}}' }],
      },
    ],
  },
];

/** Every PromQL expression of the dashboard (tests check them with promtool). */
export function dashboardExpressions(): string[] {
  return dashboardRows.flatMap((r) => r.panels.flatMap((p) => p.exprs.map((e) => e.expr)));
}

/**
 * The dashboard as Grafana's JSON model (schemaVersion 39), with a Prometheus
 * data source chosen at import time (`${DS_PROMETHEUS}`).
 */
export function grafanaDashboard(title = 'hashiship cluster'): Record<string, unknown> {
  const ds = { type: 'prometheus', uid: '${DS_PROMETHEUS}' };
  const panels: Record<string, unknown>[] = [];
  let id = 1;
  let y = 0;
  for (const row of dashboardRows) {
    panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    let x = 0;
    for (const p of row.panels) {
      const w = p.kind === 'stat' ? 6 : 12;
      if (x + w > 24) {
        x = 0;
        y += 8;
      }
      panels.push({
        id: id++,
        type: p.kind,
        title: p.title,
        datasource: ds,
        gridPos: { h: 8, w, x, y },
        fieldConfig: { defaults: { unit: p.unit ?? 'short' }, overrides: [] },
        options: p.kind === 'stat' ? { reduceOptions: { calcs: ['lastNotNull'] }, colorMode: 'value' } : { legend: { displayMode: 'list' } },
        targets: p.exprs.map((e, i) => ({ refId: String.fromCharCode(65 + i), datasource: ds, expr: e.expr, legendFormat: e.legend })),
      });
      x += w;
    }
    y += 8;
  }
  return {
    __inputs: [{ name: 'DS_PROMETHEUS', label: 'Prometheus', type: 'datasource', pluginId: 'prometheus', pluginName: 'Prometheus' }],
    title,
    uid: 'hashiship-cluster',
    tags: ['hashiship', 'nomad', 'consul', 'vault', 'fabio'],
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    templating: { list: [] },
    panels,
  };
}
