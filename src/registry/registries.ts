/**
 * The root registry client (`createClients(config).registries`): the areas hanging
 * from it (`registries.manifests.get(ref)`, `registries.blobs.head(ref)`) take image
 * references and reach the host each reference names, through one shared
 * {@link RegistryClient} per host (its tokens and connection are reused by every call
 * of the run). Callers pass the root client down; none picks a host's client itself.
 */
import type { Logger } from '../log.js';
import type { RegistryAccess } from './auth.js';
import { RegistryBlobs } from './blobs.js';
import { RegistryClient } from './client.js';
import { RegistryManifests } from './manifests.js';

/** Every registry area, over one shared client per host. */
export class RegistryClients {
  readonly #access: RegistryAccess;
  readonly #hosts = new Map<string, RegistryClient>();
  /** Manifests by reference (`get`, `head`, `put`). */
  readonly manifests: RegistryManifests;
  /** Blobs by reference with a digest (`head`, `get`). */
  readonly blobs: RegistryBlobs;

  /** @param access where credentials come from (the configuration, DOCKER_CONFIG). */
  constructor(access: RegistryAccess = {}) {
    this.#access = access;
    const host = (h: string) => this.host(h);
    this.manifests = new RegistryManifests(host);
    this.blobs = new RegistryBlobs(host);
  }

  /**
   * The shared client of one host, made on first use. For the registry's own
   * operations that span requests on one host (copy, push: mounts, upload sessions);
   * everything else goes through the areas.
   */
  host(host: string): RegistryClient {
    let c = this.#hosts.get(host);
    if (c === undefined) {
      c = new RegistryClient(host, this.#access);
      this.#hosts.set(host, c);
    }
    return c;
  }
}

/** Options shared by the registry operations. */
export interface RegistryCallOptions {
  /** The run's root registry client (`createClients(config).registries`). */
  readonly clients: RegistryClients;
  readonly log?: Logger;
}
