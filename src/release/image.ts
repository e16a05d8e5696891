/**
 * Images of a release: resolve each service's image (tag or digest, from the
 * spec or `--image`) in the environment's registry to a digest and, for exec and
 * raw_exec tasks, the layers of this platform; then render the jobs with the
 * digests pinned (render.ts turns the layers into artifacts fetched by digest).
 */
import type { Clients } from '../clients.js';
import type { HashishipConfig } from '../config/index.js';
import { createDeployContext, inNamespace, namespaceOf, type DeployContext } from '../deploy/runtime.js';
import { servicesFromSpecs, type InputSet } from '../deploy/inputs.js';
import { InputError } from '../errors.js';
import type { Logger } from '../log.js';
import { renderAll } from '../nomad/render.js';
import type { RegistryClients } from '../registry/index.js';
import { isDigest } from '../registry/ref.js';
import type { ResolvedService } from '../service-spec/overlay.js';
import type { ReleaseImage } from './records.js';

/** An image resolved in a registry. */
export interface ResolvedImage extends ReleaseImage {
  /** Layer digests for this platform (linux), in order. */
  readonly layers: readonly string[];
}

/** The architecture name registries use for this machine. */
export function hostArchitecture(arch: string = process.arch): string {
  return arch === 'x64' ? 'amd64' : arch === 'ia32' ? '386' : arch;
}

/**
 * Resolve `repository:reference` in a registry: the digest of the top manifest
 * (an index stays the index's digest) and the layers of the linux image for this
 * architecture.
 * @throws {GateError} / {@link ServerError} from the registry client; {@link InputError}
 *   when the image has no linux image for this architecture.
 */
export async function resolveImage(
  registry: string,
  repository: string,
  reference: string,
  opts: { readonly clients: RegistryClients },
): Promise<ResolvedImage> {
  const { manifests } = opts.clients;
  const at = isDigest(reference) ? { digest: reference } : { tag: reference };
  const top = await manifests.get({ registry, repository, ...at });
  if (top === undefined) {
    throw new InputError([{ subject: `${registry}/${repository}${isDigest(reference) ? '@' : ':'}${reference}`, message: `no such image in ${registry}` }]);
  }
  let layers: readonly string[];
  if (top.manifest.kind === 'image') layers = top.manifest.layers.map((l) => l.digest);
  else {
    const arch = hostArchitecture();
    const child = top.manifest.manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === arch);
    if (child === undefined) {
      throw new InputError([{ subject: `${registry}/${repository}@${top.digest}`, message: `no linux/${arch} image in the index` }]);
    }
    const m = await manifests.get({ registry, repository, digest: child.digest });
    layers = m?.manifest.kind === 'image' ? m.manifest.layers.map((l) => l.digest) : [];
  }
  return { repository, registry, digest: top.digest, ...(isDigest(reference) ? {} : { tag: reference }), layers };
}

/**
 * Parse `--image <service>=<tag|sha256:digest>` flags.
 * @throws {InputError} naming the flag for a malformed value or a service given twice.
 */
export function parseImageFlags(values: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    const eq = v.indexOf('=');
    const service = eq < 0 ? '' : v.slice(0, eq);
    const ref = eq < 0 ? '' : v.slice(eq + 1);
    if (service === '' || ref === '') {
      throw new InputError([{ subject: `--image=${JSON.stringify(v)}`, message: 'expected <service>=<tag> or <service>=sha256:<64 hex>' }]);
    }
    if (ref.startsWith('sha256:') ? !isDigest(ref) : !/^[\w][\w.-]{0,127}$/.test(ref)) {
      throw new InputError([{ subject: `--image=${JSON.stringify(v)}`, message: `${JSON.stringify(ref)} is neither a tag nor sha256:<64 lower-case hex>` }]);
    }
    if (out.has(service)) throw new InputError([{ subject: `--image=${JSON.stringify(v)}`, message: `${service} is given twice` }]);
    out.set(service, ref);
  }
  return out;
}

/** Where the specs live. */
export interface SpecDirs {
  readonly services?: string;
  readonly environments?: string;
}

/** The services of an environment, resolved (all, or the named ones). */
export function resolvedServices(environment: string, names: readonly string[], dirs: SpecDirs = {}): Promise<ResolvedService[]> {
  return servicesFromSpecs(environment, names, dirs);
}

/** The image tasks of a service (repository and the reference the spec gives). */
export function imagesOf(r: ResolvedService): { readonly repository: string; readonly reference: string | undefined }[] {
  const out: { repository: string; reference: string | undefined }[] = [];
  for (const g of r.spec.groups) {
    for (const t of g.tasks) {
      if (t.image !== undefined && !out.some((o) => o.repository === t.image!.repository)) {
        out.push({ repository: t.image.repository, reference: t.image.digest ?? t.image.tag });
      }
    }
  }
  return out;
}

/** Jobs rendered with their images pinned, and the images per service. */
export interface PinnedInputs {
  readonly set: InputSet;
  readonly images: ReadonlyMap<string, readonly ResolvedImage[]>;
  readonly services: readonly ResolvedService[];
}

/**
 * Resolve every image of the chosen services in the environment's registry and
 * render their jobs with the digests (and layers) pinned. `overrides` replace
 * the reference of a service's first image (`--image`); `pinned` pins a
 * repository to a digest (a promotion).
 * @throws {InputError} for an override naming a service that has no image or is
 *   not chosen, or an environment without a registry.
 */
export async function pinnedInputs(
  environment: string,
  names: readonly string[],
  opts: {
    readonly dirs?: SpecDirs;
    readonly overrides?: ReadonlyMap<string, string>;
    readonly pinned?: Readonly<Record<string, string>>;
    /** The run's root registry client (`createClients(config).registries`). */
    readonly clients: RegistryClients;
    /** The namespace of services whose spec and environment name none (NOMAD_NAMESPACE). @default "default" */
    readonly namespace?: string;
  },
): Promise<PinnedInputs> {
  const services = await resolvedServices(environment, names, opts.dirs);
  const overrides = opts.overrides ?? new Map<string, string>();
  for (const s of overrides.keys()) {
    const r = services.find((x) => x.spec.name === s);
    if (r === undefined || imagesOf(r).length === 0) {
      throw new InputError([
        {
          subject: `--image ${s}=…`,
          message: r === undefined ? `${s} is not among the services deployed to ${environment}` : `${s} has no task with an image`,
        },
      ]);
    }
  }
  const { clients } = opts;
  const digests: Record<string, string> = {};
  const layers: Record<string, readonly string[]> = {};
  const images = new Map<string, ResolvedImage[]>();
  for (const r of services) {
    const list: ResolvedImage[] = [];
    for (const [i, img] of imagesOf(r).entries()) {
      const registry = r.environment?.registry;
      if (registry === undefined) {
        throw new InputError([
          { subject: `${r.environmentFile ?? environment}: registry`, message: `${environment} names no registry to resolve ${img.repository} in` },
        ]);
      }
      const reference = opts.pinned?.[img.repository] ?? (i === 0 ? overrides.get(r.spec.name) : undefined) ?? img.reference;
      if (reference === undefined) throw new InputError([{ subject: `${r.spec.name}: ${img.repository}`, message: 'no tag or digest (give --image)' }]);
      const resolved = await resolveImage(registry, img.repository, reference, { clients });
      digests[img.repository] = resolved.digest;
      layers[img.repository] = resolved.layers;
      list.push(resolved);
    }
    images.set(r.spec.name, list);
  }
  const rendered = renderAll(services, { digests, layers, ...(opts.namespace === undefined ? {} : { namespace: opts.namespace }) });
  return {
    set: {
      environment,
      inputs: rendered.map((x) => ({ job: x.job, source: x.file })),
      complete: false,
      services,
      // The namespaces the environment declares: deploy creates the missing ones.
      ...(services[0]?.environment?.namespaces === undefined ? {} : { namespaces: services[0].environment.namespaces }),
      ...(services[0]?.environmentFile === undefined ? {} : { environmentFile: services[0].environmentFile }),
    },
    images,
    services,
  };
}

/**
 * A deploy context acting in the Nomad namespace of the jobs (the environment's
 * `namespace`), so one cluster can hold the same job ID in qa and production.
 * When the jobs span several namespaces the context stays on the default one:
 * the deploy engine acts on each job in its own namespace anyway.
 */
export function contextForSet(config: HashishipConfig, set: InputSet, log: Logger, clients: Pick<Clients, 'nomad' | 'consul'>): DeployContext {
  const ctx = createDeployContext(config, log, clients);
  const namespaces = [...new Set(set.inputs.map((i) => namespaceOf(i.job, ctx.nomad.client)))];
  return namespaces.length === 1 ? inNamespace(ctx, namespaces[0]) : ctx;
}
