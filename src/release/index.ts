/**
 * Releases and promotion: release records (evidence) in Consul KV, the pure
 * promotion planner, the resumable promotion state machine with its lock,
 * rollback to the previous release, and `deploy --image` evidence.
 */
export * from './records.js';
export * from './promotion/plan.js';
export { acquireLock, lockKey, LocksPrefix, type HeldLock, type LockHolder, type LockOptions } from './lock.js';
export {
  contextForSet,
  hostArchitecture,
  imagesOf,
  parseImageFlags,
  pinnedInputs,
  resolveImage,
  resolvedServices,
  type PinnedInputs,
  type ResolvedImage,
  type SpecDirs,
} from './image.js';
export { DefaultFabioProxy, EnvironmentMeta, gatherEvidence, runSmoke, serviceRouting, type SmokeOptions } from './evidence.js';
export {
  deployRelease,
  releaseDeployDocument,
  releaseLines,
  releaseMode,
  type ReleaseDeployOptions,
  type ReleaseDeployResult,
  type ReleaseMode,
} from './deploy-image.js';
export { planService, policyOf, promote, type ObservedWeight, type PromoteOptions, type PromoteResult, type ServicePromotion } from './promotion/flow.js';
export { runPromotion, type PromotionEnd, type RunOptions } from './promotion/run.js';
export { initialState, type PromotionDeps, type PromotionState, type TargetNomad } from './promotion/state.js';
export { serverDeps, type ServerOptions } from './promotion/servers.js';
export { previousRelease, rollback, type RollbackOptions, type RollbackResult } from './rollback.js';
