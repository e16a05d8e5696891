/**
 * createClients(config): one root client per server, areas hanging from it, built
 * once per run from the resolved configuration (defaults → environment → flags) and
 * passed down. Nothing below builds a client from an address of its own.
 *
 * Design for two clusters: build one set per environment's configuration, never a
 * process-wide one.
 */
import type { Env, HashishipConfig } from './config/index.js';
import { ConsulClient } from './consul/client.js';
import { consulApi, type Consul } from './consul/index.js';
import { nomadApi, type NomadApi } from './nomad/api.js';
import { NomadClient } from './nomad/client.js';
import { RegistryClients } from './registry/registries.js';
import { VaultClient } from './vault/client.js';
import { vaultApi, type Vault } from './vault/index.js';

/** The root clients of one cluster. */
export interface Clients {
  /** Nomad's areas on one client (`nomad.jobs`, `nomad.deployments`, …), in NOMAD_NAMESPACE; `nomad.client.in(ns)` for another. */
  readonly nomad: NomadApi;
  /** Consul's areas on one client (`consul.kv`, `consul.health`, …). */
  readonly consul: Consul;
  /**
   * Vault's areas on one client with the configured token (`vault.kv`). Commands that
   * log in (AppRole, JWT) use the session's client, derived from this one
   * (`withVault(clients.vault, (s) => s.client)`).
   */
  readonly vault: Vault;
  /**
   * The registries' areas (`registries.manifests`, `registries.blobs`) over one client per host, sharing tokens and
   * connections; credentials from the configuration, `env` (DOCKER_CONFIG) and Vault (this `vault`).
   */
  readonly registries: RegistryClients;
}

/**
 * Build the root clients of a configuration; `env` is read for DOCKER_CONFIG only.
 * The one place a client is constructed: the package exports no other constructor,
 * and a client with another token or timeout is built here from an adjusted
 * configuration (`createClients({ ...config, vault: { ...config.vault, timeoutMs } })`),
 * or derived from a root client (`vault.client.withToken`, `nomad.client.in(namespace)`).
 */
export function createClients(config: HashishipConfig, env: Env = {}): Clients {
  const vault = vaultApi(new VaultClient(config.vault));
  return {
    nomad: nomadApi(new NomadClient(config.nomad)),
    consul: consulApi(new ConsulClient(config.consul)),
    vault,
    registries: new RegistryClients({ config, env, vault }),
  };
}
