/**
 * What the deploy engine touches besides its arguments: the Nomad API areas,
 * Consul (for check output), a clock, a sleep and a logger. All are parameters
 * (STYLE.md "side effects are parameters"); {@link createDeployContext} builds
 * the real ones.
 */
import type { ConsulConfig, HashishipConfig } from '../config/index.js';
import { silent, type Logger } from '../log.js';
import { Allocations } from '../nomad/allocations.js';
import { NomadClient } from '../nomad/client.js';
import { Deployments } from '../nomad/deployments.js';
import { Evaluations } from '../nomad/evaluations.js';
import { Jobs, type JobSpecLike } from '../nomad/jobs.js';
import { Namespaces } from '../nomad/namespaces.js';
import { realRuntime, type Runtime } from '../runtime.js';
import { configSecrets, OutputRedactor } from '../redact.js';

/** The Nomad API areas the engine uses, on one client (and so in its namespace). */
export interface NomadApi {
  readonly client: NomadClient;
  readonly jobs: Jobs;
  readonly deployments: Deployments;
  readonly evaluations: Evaluations;
  readonly allocations: Allocations;
  readonly namespaces: Namespaces;
}

/** Build every area on one Nomad client. */
export function nomadApi(client: NomadClient): NomadApi {
  return {
    client,
    jobs: new Jobs(client),
    deployments: new Deployments(client),
    evaluations: new Evaluations(client),
    allocations: new Allocations(client),
    namespaces: new Namespaces(client),
  };
}

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
  readonly consul?: ConsulConfig;
  readonly runtime: Runtime;
  readonly redactor: OutputRedactor;
}

/** A context on the real servers of a configuration; the configured tokens are redacted from all output. */
export function createDeployContext(config: HashishipConfig, log: Logger = silent): DeployContext {
  const redactor = new OutputRedactor(configSecrets(config));
  return { nomad: nomadApi(new NomadClient(config.nomad)), consul: config.consul, runtime: realRuntime(log), redactor };
}
