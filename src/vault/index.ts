/**
 * The root Vault client: one connection ({@link VaultClient}) and the areas hanging
 * from it (`vault.kv.read(path)`). Built once per run from the resolved configuration
 * (src/clients.ts), or on a logged-in session's connection (`session.client`).
 */
import type { VaultClient } from './client.js';
import { VaultKv } from './kv.js';

/** Every Vault area on one connection. */
export interface Vault {
  readonly client: VaultClient;
  /** KV secrets (v1 and v2) by logical path. */
  readonly kv: VaultKv;
}

/** Every area on one connection. */
export function vaultApi(client: VaultClient): Vault {
  return { client, kv: new VaultKv(client) };
}
