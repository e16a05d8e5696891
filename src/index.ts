/**
 * hashiship's public API. The library computes and emits events; it never prints.
 * Areas are exported as namespaces so their names cannot collide.
 */
export * from './errors.js';
export * from './log.js';
export * from './config/index.js';
export { OutputRedactor, REDACTED, redactorFromEnv, configSecrets } from './redact.js';
export { HttpApi } from './http.js';
// Clients are built one way: createClients(config). The client classes are exported as types only.
export type { NomadClient } from './nomad/client.js';
export { createClients, type Clients } from './clients.js';
export { consulCall, type ConsulClient } from './consul/client.js';
export type { Consul } from './consul/index.js';
export type { NomadApi } from './nomad/api.js';
export { vaultCall, type VaultClient } from './vault/client.js';
export type { Vault } from './vault/index.js';
export * as stack from './stack/stack.js';
export * as install from './stack/install.js';
export * as versions from './stack/versions.js';
export * as spec from './service-spec/load.js';
export * as render from './nomad/render.js';
export * as renderHcl from './nomad/render-hcl.js';
export * as specFiles from './service-spec/files.js';
export * as hcl from './hcl/writer.js';
export * as agents from './agents/index.js';
export * as prometheus from './monitoring/prometheus.js';
export * as deploy from './deploy/deploy.js';
export * as plan from './deploy/plan.js';
export { version } from './version.js';
export * as consulHealth from './consul/health.js';
export * as consulKv from './consul/kv.js';
export * as consulMaintenance from './consul/maintenance.js';
export * as consulServices from './consul/services.js';
export * as consulConfig from './consul/config.js';
export * as fabioWeights from './fabio/weights.js';
export * as fabioRoutes from './fabio/routes.js';
export * as fabioCanary from './fabio/canary.js';
export * as vaultPolicy from './vault/policy.js';
export * as vaultPreflight from './vault/preflight.js';
export * as vaultAuth from './vault/auth.js';
export * as vaultKv from './vault/kv.js';
export * as ci from './ci/travis.js';
export * as registry from './registry/index.js';
export * as promote from './release/index.js';
