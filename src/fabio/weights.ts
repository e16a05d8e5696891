/**
 * Canary weights as Fabio manual-override rules (pure). Fabio's config language:
 * `route weight <service> <src> weight <w> tags "<t1>,<t2>"` sends the share `w`
 * of the traffic for `<src>` to the service's instances carrying those tags, and
 * the rest to its other instances. Rules live in one Consul KV key per service,
 * `fabio/config/<service>`; Fabio (≥ 1.5.7) appends every key under its kvpath
 * (`fabio/config`), so other teams' keys are never rewritten.
 */

/** The KV prefix Fabio reads (`registry.consul.kvpath`). @default "fabio/config" */
export const FabioKvPath = 'fabio/config';

/** The tag that marks canary instances (the renderer adds it to CanaryTags). */
export const CanaryTag = 'canary';

/** The KV key holding a service's weight rules: `fabio/config/<service>`. */
export function weightKey(service: string, kvPath: string = FabioKvPath): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(service)) throw new Error(`fabio: invalid service name ${JSON.stringify(service)}`);
  return `${kvPath.replace(/^\/+|\/+$/g, '')}/${service}`;
}

/**
 * The route source of a `urlprefix-` tag: `urlprefix-web.example.com/api strip=/api`
 * → `web.example.com/api`. Undefined for a tag that is not a route.
 */
export function routeSource(tag: string, prefix = 'urlprefix-'): string | undefined {
  if (!tag.startsWith(prefix)) return undefined;
  const src = tag.slice(prefix.length).trim().split(/\s+/)[0] ?? '';
  return src === '' ? undefined : src;
}

/** The distinct route sources of a service's tags, in tag order. */
export function routeSources(tags: readonly string[]): string[] {
  const out: string[] = [];
  for (const t of tags) {
    const s = routeSource(t);
    if (s !== undefined && !out.includes(s)) out.push(s);
  }
  return out;
}

/** Fabio's weight as text: a share in (0, 1) with at most 4 decimals (`0.2`). */
export function formatWeight(weight: number): string {
  if (!Number.isFinite(weight) || weight <= 0 || weight >= 1) throw new Error(`fabio: canary weight must be > 0 and < 1, got ${weight}`);
  return String(Math.round(weight * 10_000) / 10_000);
}

/** What the weight rules of one service say. */
export interface WeightRuleInput {
  readonly service: string;
  /** The canary's `urlprefix-` tags (other tags are ignored). */
  readonly routeTags: readonly string[];
  /** Share of traffic for the canary, 0 < w < 1 (0.2 = 20 %). */
  readonly weight: number;
  /** Tags that select the canary instances. @default ["canary"] */
  readonly selectTags?: readonly string[];
}

/** One `route weight` line per route source of the canary. */
export function weightRules(input: WeightRuleInput): string[] {
  const w = formatWeight(input.weight);
  const tags = input.selectTags ?? [CanaryTag];
  if (tags.length === 0 || tags.some((t) => t === '' || /[",\s]/.test(t))) throw new Error(`fabio: invalid selection tags ${JSON.stringify(tags)}`);
  const sources = routeSources(input.routeTags);
  if (sources.length === 0) throw new Error(`fabio: ${input.service}: no urlprefix- route tags to weight`);
  return sources.map((src) => `route weight ${input.service} ${src} weight ${w} tags "${tags.join(',')}"`);
}

/** The KV value: a header comment naming the owner, then the rules. */
export function weightRulesText(input: WeightRuleInput): string {
  return [`# hashiship: canary weight for ${input.service}; removed after promotion or abort`, ...weightRules(input), ''].join('\n');
}
