/**
 * The root Consul client: one connection ({@link ConsulClient}) and the API areas
 * hanging from it, named as node-consul names them (`consul.kv.get(key)`,
 * `consul.health.waitForHealthy(…)`). Built once per run from the resolved
 * configuration (src/clients.ts) and passed down.
 */
import type { ConsulClient } from './client.js';
import { ConsulServiceConfig } from './config.js';
import { ConsulHealth } from './health.js';
import { ConsulKv } from './kv.js';
import { ConsulMaintenance } from './maintenance.js';
import { ConsulServices } from './services.js';

/** Every Consul area on one connection. */
export interface Consul {
  readonly client: ConsulClient;
  /** Keys with check-and-set. */
  readonly kv: ConsulKv;
  /** Instances and the health gate. */
  readonly health: ConsulHealth;
  /** Services registered on the agent (external services). */
  readonly services: ConsulServices;
  /** Service configuration under `config/<service>/`. */
  readonly serviceConfig: ConsulServiceConfig;
  /** Maintenance mode of an instance or the node. */
  readonly maintenance: ConsulMaintenance;
}

/** Every area on one connection. */
export function consulApi(client: ConsulClient): Consul {
  const kv = new ConsulKv(client);
  return {
    client,
    kv,
    health: new ConsulHealth(client),
    services: new ConsulServices(client),
    serviceConfig: new ConsulServiceConfig(kv),
    maintenance: new ConsulMaintenance(client),
  };
}
