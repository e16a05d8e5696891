/**
 * The real Nomad as the judge of rendered jobs: `/v1/jobs/parse` (HCL → API
 * JSON, with or without canonicalization), `/v1/validate/job`, `nomad fmt -check`,
 * and a field-by-field comparison of a parsed job with our model.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import type { NomadClient } from '../../src/nomad/client.js';

const run = promisify(execFile);

/** `POST /v1/jobs/parse`: Nomad's own HCL2 parser. */
export async function parseWithNomad(nomad: NomadClient, hcl: string, canonicalize: boolean): Promise<Record<string, unknown>> {
  const res = await nomad.request<Record<string, unknown>>('jobs.parse', {
    method: 'POST',
    path: '/v1/jobs/parse',
    data: { JobHCL: hcl, Canonicalize: canonicalize },
  });
  return res.data;
}

export interface ValidateResponse {
  readonly ValidationErrors: readonly string[] | null;
  readonly Error: string;
  readonly Warnings: string;
}

/** `POST /v1/validate/job`: the checks `nomad job validate` runs. */
export async function validateWithNomad(nomad: NomadClient, job: unknown): Promise<ValidateResponse> {
  const res = await nomad.request<ValidateResponse>('validate.job', { method: 'POST', path: '/v1/validate/job', data: { Job: job } });
  return res.data;
}

/** Whether a value parsed by Go carries no information (an unset field). */
function isZero(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.values(v as Record<string, unknown>).every(isZero);
  return false;
}

/**
 * Compare our model with the job Nomad parsed from our HCL, field by field:
 * every field we set must come back equal, and every other field Nomad returns
 * must be unset (Go zero values of fields we never write).
 * @returns one line per mismatch, empty when they agree.
 */
export function compareJobs(model: unknown, parsed: unknown, path = 'Job'): string[] {
  const out: string[] = [];
  const walk = (m: unknown, p: unknown, at: string): void => {
    if (Array.isArray(m)) {
      if (!Array.isArray(p) || p.length !== m.length) {
        out.push(`${at}: ours ${JSON.stringify(m)}, Nomad's ${JSON.stringify(p)}`);
        return;
      }
      m.forEach((x, i) => walk(x, p[i], `${at}[${i}]`));
      return;
    }
    if (typeof m === 'object' && m !== null) {
      if (typeof p !== 'object' || p === null || Array.isArray(p)) {
        out.push(`${at}: ours ${JSON.stringify(m)}, Nomad's ${JSON.stringify(p)}`);
        return;
      }
      const mo = m as Record<string, unknown>;
      const po = p as Record<string, unknown>;
      for (const k of Object.keys(mo)) walk(mo[k], po[k], `${at}.${k}`);
      for (const k of Object.keys(po)) {
        if (!(k in mo) && !isZero(po[k])) out.push(`${at}.${k}: not in our model, Nomad's ${JSON.stringify(po[k])}`);
      }
      return;
    }
    if (m !== p) out.push(`${at}: ours ${JSON.stringify(m)}, Nomad's ${JSON.stringify(p)}`);
  };
  walk(model, parsed, path);
  return out;
}

/** The real `nomad` binary of the stack (HASHISHIP_STACK_BIN), or on PATH. */
export function nomadBinary(env: Readonly<Record<string, string | undefined>>): string {
  const dirs = [...(env['HASHISHIP_STACK_BIN'] ?? '').split(':'), ...(process.env['PATH'] ?? '').split(delimiter)].filter((d) => d !== '');
  for (const d of dirs) {
    const p = join(d, 'nomad');
    if (existsSync(p)) return p;
  }
  throw new Error('no nomad binary in HASHISHIP_STACK_BIN or PATH');
}

/**
 * `nomad fmt -check -list -recursive <paths>`.
 * @returns the files nomad fmt would change (empty when all are formatted).
 */
export async function fmtCheck(nomad: string, paths: readonly string[]): Promise<{ code: number; files: string[]; stderr: string }> {
  try {
    await run(nomad, ['fmt', '-check', '-list', '-recursive', ...paths], { maxBuffer: 64 << 20 });
    return { code: 0, files: [], stderr: '' };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === 'number' ? err.code : -1,
      files: (err.stdout ?? '').split('\n').filter((l) => l !== ''),
      stderr: err.stderr ?? '',
    };
  }
}
