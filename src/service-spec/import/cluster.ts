/**
 * A job already on a cluster as an import source: the job specification Nomad
 * kept when it was submitted (`GET /v1/job/:id/submission`, HCL2 without
 * variables), else the job itself (`GET /v1/job/:id`) in API JSON — which also
 * holds what the servers added on registration.
 */
import { InputError } from '../../errors.js';
import type { NomadClient } from '../../nomad/client.js';
import type { JobSource } from './parse.js';

interface Submission {
  readonly Source?: string;
  readonly Format?: string;
  readonly VariableFlags?: Readonly<Record<string, string>> | null;
  readonly Variables?: string;
}

/**
 * Read job `id` in the client's namespace (NOMAD_NAMESPACE, --nomad-namespace).
 * @throws {InputError} when there is no such job.
 * @throws {ServerError} when Nomad cannot be reached or refuses.
 */
export async function clusterSource(client: NomadClient, id: string): Promise<JobSource> {
  const ns = client.namespace ?? 'default';
  const where = `nomad:${ns}/${id}`;
  const res = await client.request<Record<string, unknown>>('jobs.get', { path: `/v1/job/${encodeURIComponent(id)}`, accept: [404] });
  if (res.status === 404)
    throw new InputError([{ subject: '--from-cluster', message: `no job \`${id}\` in namespace \`${ns}\` of Nomad at ${client.config.address}` }]);
  const version = res.data['Version'];
  const sub = await client.request<Submission>('jobs.submission', {
    path: `/v1/job/${encodeURIComponent(id)}/submission`,
    params: { version: String(typeof version === 'number' ? version : 0) },
    accept: [404],
  });
  const s = sub.status === 404 ? undefined : sub.data;
  const plain =
    s !== undefined && s.Format === 'hcl2' && typeof s.Source === 'string' && Object.keys(s.VariableFlags ?? {}).length === 0 && (s.Variables ?? '') === '';
  if (plain) return { file: `${where} (submitted HCL)`, text: s.Source! };
  return { file: `${where}.json`, text: JSON.stringify({ Job: res.data }) };
}
