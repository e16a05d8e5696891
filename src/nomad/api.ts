/**
 * The root Nomad client: one {@link NomadClient} (connection, token, region,
 * namespace) and the API areas hanging from it.
 */
import { Allocations } from './allocations.js';
import type { NomadClient } from './client.js';
import { Deployments } from './deployments.js';
import { Evaluations } from './evaluations.js';
import { Jobs } from './jobs.js';
import { Namespaces } from './namespaces.js';

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
