/**
 * What the deploy engine touches besides its arguments: the Nomad API areas,
 * Consul (for check output), a clock, a sleep and a logger. All are parameters
 * (STYLE.md "side effects are parameters"); {@link createDeployContext} builds
 * the real ones.
 */
import type { Clients } from '../clients.js';
import type { HashishipConfig } from '../config/index.js';
import type { Consul } from '../consul/index.js';
import type { Logger } from '../log.js';
import { nomadApi, type NomadApi } from '../nomad/api.js';
import type { NomadClient } from '../nomad/client.js';
import type { JobSpecLike } from '../nomad/jobs.js';
import { realRuntime, type Runtime } from '../runtime.js';
import { configSecrets, OutputRedactor } from '../redact.js';

export { nomadApi, type NomadApi } from '../nomad/api.js';

/**
 * The namespace a job lives in: the one it names, else the client's default
 * (NOMAD_NAMESPACE), else Nomad's `default`.
 */
export function namespaceOf(job: Pick<JobSpecLike, 'Namespace'>, client: NomadClient): string {
  const ns = job.Namespace;
  return typeof ns === 'string' && ns !== '' ? ns : (client.namespace ?? 'default');
}

/**
 * The same context acting in `namespace`: every Nomad request of the returned
 * context (jobs, evaluations, deployments, allocations, blocking queries) goes
 * there. The one way to act on a job in its own namespace.
 */
export function inNamespace(ctx: DeployContext, namespace: string | undefined): DeployContext {
  const client = ctx.nomad.client.in(namespace);
  return client === ctx.nomad.client ? ctx : { ...ctx, nomad: nomadApi(client) };
}

/** Everything the engine needs. */
export interface DeployContext {
  readonly nomad: NomadApi;
  /** Where to read check output from; without it diagnoses lack check output. */
  readonly consul?: Consul;
  readonly runtime: Runtime;
  readonly redactor: OutputRedactor;
}

/**
 * A context on the real servers of a configuration, through the run's clients (built
 * once by the caller, e.g. the command runner, and passed in); the configured tokens
 * are redacted from all output.
 */
export function createDeployContext(config: HashishipConfig, log: Logger, clients: Pick<Clients, 'nomad' | 'consul'>): DeployContext {
  const redactor = new OutputRedactor(configSecrets(config));
  return { nomad: clients.nomad, consul: clients.consul, runtime: realRuntime(log), redactor };
}
