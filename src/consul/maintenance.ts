/**
 * Consul maintenance mode for one service instance or a whole node: while on,
 * Consul adds a critical `_service_maintenance:<id>` (or `_node_maintenance`)
 * check, so health gates and Fabio take the instance out of rotation.
 */
import type { ConsulConfig } from '../config/index.js';
import { silent, type Logger } from '../log.js';
import { consulCall, createConsul, type ConsulApi } from './client.js';

/** What to put in (or take out of) maintenance. */
export type MaintenanceTarget =
  /** One service instance registered on the local agent, by its service ID. */
  | { readonly serviceId: string }
  /** The node of the agent at the configured address. */
  | { readonly node: true };

/** Options of {@link setMaintenance}. */
export interface MaintenanceOptions {
  /** Shown in the maintenance check's notes. @default "hashiship" */
  readonly reason?: string;
  readonly consul?: ConsulApi;
  readonly log?: Logger;
}

/**
 * Turn maintenance mode on or off (`PUT /v1/agent/service/maintenance/:id` or
 * `/v1/agent/maintenance`). Idempotent.
 * @throws {ServerError} when the agent cannot be reached or the service is unknown (404).
 */
export async function setMaintenance(config: ConsulConfig, target: MaintenanceTarget, enable: boolean, opts: MaintenanceOptions = {}): Promise<void> {
  const consul = opts.consul ?? createConsul(config);
  const reason = opts.reason ?? 'hashiship';
  if ('serviceId' in target) {
    await consulCall(config, `agent.service.maintenance ${target.serviceId}`, () =>
      consul.agent.service.maintenance({ id: target.serviceId, enable, ...(enable ? { reason } : {}) }),
    );
  } else {
    await consulCall(config, 'agent.maintenance', () => consul.agent.maintenance({ enable, ...(enable ? { reason } : {}) }));
  }
  (opts.log ?? silent)({ kind: 'consul.maintenance', target: 'serviceId' in target ? `service ${target.serviceId}` : 'node', enable });
}
