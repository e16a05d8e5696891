/**
 * The registry client's public face (Docker Registry HTTP API v2): references,
 * digests, copy by digest, and building images through the API.
 *
 * ```ts
 * const { digest } = await pushImage('127.0.0.1:5001/team/app:42', { platforms: [{ os: 'linux', architecture: 'amd64', layers: [{ files: { 'app/run.sh': '…' } }] }] });
 * const r = await copyImage('127.0.0.1:5001/team/app:42', '127.0.0.1:5002/team/app:42', { config, log });
 * r.digest === digest; // byte for byte
 * ```
 */
export { parseImageRef, formatImageRef, isDigest, type ImageRef } from './ref.js';
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
export { RegistryClient, RegistryClients, registryBaseURL, type RegistryCallOptions } from './client.js';
export { parseChallenges, resolveCredentials, type Challenge, type Credentials, type RegistryAccess } from './auth.js';
export {
  MediaType,
  parseManifest,
  getManifest,
  headManifest,
  putManifest,
  type Descriptor,
  type ImageManifest,
  type IndexManifest,
  type Manifest,
  type Platform,
  type RawManifest,
} from './manifests.js';
export { headBlob, getBlob, startUpload, putBlob, uploadChunked, DigestVerifier } from './blobs.js';
