/**
 * The registry client's public face (Docker Registry HTTP API v2): references,
 * digests, copy by digest, and building images through the API. The clients
 * themselves come from `createClients(config).registries` only (types here).
 *
 * ```ts
 * const clients = createClients(config, env).registries; // the root client, built once per run
 * const { digest } = await pushImage('127.0.0.1:5001/team/app:42', { clients, platforms: [{ os: 'linux', architecture: 'amd64', layers: [{ files: { 'app/run.sh': '…' } }] }] });
 * const r = await copyImage('127.0.0.1:5001/team/app:42', '127.0.0.1:5002/team/app:42', { clients, log });
 * r.digest === digest; // byte for byte
 * (await clients.manifests.head('127.0.0.1:5002/team/app:42'))?.digest === digest;
 * ```
 */
export { parseImageRef, formatImageRef, isDigest, blobRef, type ImageRef } from './ref.js';
export { copyImage, resolveDigest, type CopyOptions, type CopyResult } from './copy.js';
export { mapLimit } from '../concurrency.js';
export {
  pushImage,
  tarFiles,
  writeRandomLayer,
  type LayerInput,
  type LayerFile,
  type PlatformImage,
  type PushImageOptions,
  type PushResult,
  type ImageRuntimeConfig,
} from './build.js';
export { registryBaseURL, type RegistryClient } from './client.js';
export type { RegistryClients, RegistryCallOptions } from './registries.js';
export { parseChallenges, resolveCredentials, type Challenge, type Credentials, type RegistryAccess } from './auth.js';
export {
  MediaType,
  parseManifest,
  type RegistryManifests,
  type ManifestHead,
  type Descriptor,
  type ImageManifest,
  type IndexManifest,
  type Manifest,
  type Platform,
  type RawManifest,
} from './manifests.js';
export { DigestVerifier, type RegistryBlobs } from './blobs.js';
