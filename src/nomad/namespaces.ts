/**
 * Nomad namespaces (`/v1/namespaces`, `/v1/namespace/:name`): which exist, and
 * creating one. hashiship never deletes or changes a namespace.
 */
import type { NomadClient } from './client.js';

/** A namespace (the fields hashiship reads). */
export interface Namespace {
  readonly Name: string;
  readonly Description?: string;
  readonly Meta?: Readonly<Record<string, string>> | null;
  readonly CreateIndex?: number;
  readonly ModifyIndex?: number;
}

/** `/v1/namespace…`, one method per operation. */
export class Namespaces {
  constructor(readonly client: NomadClient) {}

  /** `GET /v1/namespaces`: every namespace the token may see. */
  async list(): Promise<Namespace[]> {
    return (await this.client.request<Namespace[] | null>('namespaces.list', { path: '/v1/namespaces' })).data ?? [];
  }

  /** `GET /v1/namespace/:name`; undefined when there is none. */
  async get(name: string): Promise<Namespace | undefined> {
    requireName('namespaces.get', name);
    const res = await this.client.request<Namespace | null>('namespaces.get', { path: `/v1/namespace/${encodeURIComponent(name)}`, accept: [404] });
    return res.status === 404 ? undefined : (res.data ?? undefined);
  }

  /**
   * `PUT /v1/namespace/:name`: create a namespace, or set its description when it exists.
   * @throws {ServerError} when Nomad refuses (e.g. a token without operator rights).
   */
  async apply(name: string, description?: string): Promise<void> {
    requireName('namespaces.apply', name);
    await this.client.request('namespaces.apply', {
      method: 'PUT',
      path: `/v1/namespace/${encodeURIComponent(name)}`,
      data: { Name: name, ...(description === undefined ? {} : { Description: description }) },
    });
  }
}

function requireName(operation: string, name: string): void {
  if (typeof name !== 'string' || name === '') throw new TypeError(`${operation}: a namespace name is required`);
}
