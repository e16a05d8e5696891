/**
 * Fabio routes as `urlprefix-` tags (https://fabiolb.net/feature/tcp-proxy/ and
 * "Service configuration"): `urlprefix-<host><path> [strip=<prefix>] [proto=<p>]`.
 */
import type { RouteSpec } from './types.js';

/**
 * The host a route matches: a name without dots is joined with the
 * environment's domain (`web` + `qa.example.com` → `web.qa.example.com`); a name
 * with dots is used as written; no host matches any host.
 */
export function routeHost(host: string | undefined, domain: string | undefined): string {
  if (host === undefined) return '';
  if (host.includes('.') || domain === undefined) return host;
  return `${host}.${domain}`;
}

/** The Consul tag that makes Fabio route to a service. */
export function routeTag(route: RouteSpec, domain: string | undefined): string {
  let tag = `urlprefix-${routeHost(route.host, domain)}${route.path ?? '/'}`;
  if (route.strip !== undefined) tag += ` strip=${route.strip}`;
  if (route.proto !== undefined && route.proto !== 'http') tag += ` proto=${route.proto}`;
  return tag;
}
