/**
 * Consul maintenance mode for one service instance or a whole node: while on,
 * Consul adds a critical `_service_maintenance:<id>` (or `_node_maintenance`)
 * check, so health gates and Fabio take the instance out of rotation.
 */
import { silent, type Logger } from '../log.js';
import type { ConsulClient } from './client.js';

/** What to put in (or take out of) maintenance. */
export type MaintenanceTarget =
  /** One service instance registered on the local agent, by its service ID. */
  | { readonly serviceId: string }
  /** The node of the agent at the configured address. */
  | { readonly node: true };

/** Options of {@link ConsulMaintenance.set}. */
export interface MaintenanceOptions {
  /** Shown in the maintenance check's notes. @default "hashiship" */
  readonly reason?: string;
  readonly log?: Logger;
}

/** Maintenance mode on the agent of one Consul (`consul.maintenance`). */
export class ConsulMaintenance {
  constructor(readonly client: ConsulClient) {}

  /**
   * Turn maintenance mode on or off (`PUT /v1/agent/service/maintenance/:id` or
   * `/v1/agent/maintenance`). Idempotent.
   * @throws {ServerError} when the agent cannot be reached or the service is unknown (404).
   */
  async set(target: MaintenanceTarget, enable: boolean, opts: MaintenanceOptions = {}): Promise<void> {
    const reason = opts.reason ?? 'hashiship';
    if ('serviceId' in target) {
      await this.client.call(`agent.service.maintenance ${target.serviceId}`, (api) =>
        api.agent.service.maintenance({ id: target.serviceId, enable, ...(enable ? { reason } : {}) }),
      );
    } else {
      await this.client.call('agent.maintenance', (api) => api.agent.maintenance({ enable, ...(enable ? { reason } : {}) }));
    }
    (opts.log ?? silent)({ kind: 'consul.maintenance', target: 'serviceId' in target ? `service ${target.serviceId}` : 'node', enable });
  }
}
