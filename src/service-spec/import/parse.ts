/**
 * Jobs read by Nomad's own parser: HCL through `POST /v1/jobs/parse` with
 * `Canonicalize: true` (Nomad fills in its defaults, so two jobs compare on what
 * they mean), API JSON (`{"Job": …}` or a bare job, as `nomad job run -output`
 * and `GET /v1/job/:id` give it) written as HCL and read the same way. A file
 * Nomad cannot read is bad input with Nomad's message and its position.
 */
import { InputError, type InputProblem } from '../../errors.js';
import type { NomadClient } from '../../nomad/client.js';
import type { Job } from '../../nomad/job.js';
import { nomadApiSchema, resolveRef, type ApiSchemaNode } from '../../nomad/raw.js';
import { renderJobHcl } from '../../nomad/render-hcl.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What Nomad could not parse: its message, and where when it says so. */
export class ParseFailure extends Error {
  constructor(
    message: string,
    readonly line?: number,
    readonly col?: number,
  ) {
    super(message);
  }
}

/** Nomad's parser: job text (HCL2) → the job in API JSON, canonicalized. */
export interface JobParser {
  /**
   * @param variables the values of the job's HCL2 variables, as the text of a
   * variables file (`nomad job run -var-file`).
   * @throws {ParseFailure} when Nomad refuses the text (bad input).
   * @throws {ServerError} when Nomad cannot be reached.
   */
  parse(hcl: string, variables?: string): Promise<Obj>;
}

/** Nomad's `/v1/jobs/parse` position prefix: `<name>:<line>,<col>-…: message`. */
const POSITION = /^(?:[^:\s]*:)?(\d+),(\d+)(?:-\d+(?:,\d+)?)?: /;

/** The parser of a Nomad agent: `POST /v1/jobs/parse` with `Canonicalize: true`. */
export function nomadParser(client: NomadClient): JobParser {
  return {
    async parse(hcl, variables) {
      const res = await client.request<unknown>('jobs.parse', {
        method: 'POST',
        path: '/v1/jobs/parse',
        data: { JobHCL: hcl, Canonicalize: true, ...(variables === undefined || variables === '' ? {} : { Variables: variables }) },
        // A canonicalized job is large and compresses well, but gzip costs both ends more than it saves on a short link.
        headers: { 'Accept-Encoding': 'identity' },
        accept: [400, 500],
      });
      if (res.status >= 400) {
        const text = (typeof res.data === 'string' ? res.data : JSON.stringify(res.data)).trim();
        // Nomad prefixes the first problem's range; several problems are joined with "; ".
        const bare = text.replace(/^(?:error parsing: |Failed to parse job: )/i, '');
        const m = POSITION.exec(bare);
        if (m !== null) throw new ParseFailure(bare.slice(m[0].length), Number(m[1]), Number(m[2]));
        throw new ParseFailure(bare);
      }
      if (!isObj(res.data)) throw new ParseFailure('Nomad returned no job');
      return res.data;
    },
  };
}

/** One job file to import. */
export interface JobSource {
  /** The name shown in problems (as the user gave it). */
  readonly file: string;
  readonly text: string;
  /** Values of its HCL2 variables (`--var`, `--var-file`); HCL sources only. */
  readonly variables?: Variables;
}

/** Values of HCL2 variables: one variables file's text, made of files and flags, and where each of its lines came from. */
export interface Variables {
  readonly text: string;
  /** The file (or `--var name`) and line a line of `text` came from. */
  origin(line: number): { file: string; line: number };
  /** The names set by `--var` flags. */
  readonly flagNames: readonly string[];
}

/**
 * The variables of `--var-file` files (in order) and `--var` flags (last), as
 * one variables file's text with the origin of each line.
 */
export function joinVariables(files: readonly { file: string; text: string }[], flags: readonly string[]): Variables {
  const flagLines = varLines(flags);
  const texts: string[] = [];
  const origins: { file: string; line: number }[] = [];
  for (const f of files) {
    const text = f.text.endsWith('\n') ? f.text : `${f.text}\n`;
    texts.push(text);
    text
      .split('\n')
      .slice(0, -1)
      .forEach((_, i) => origins.push({ file: f.file, line: i + 1 }));
  }
  for (const l of flagLines) {
    texts.push(l.line);
    origins.push({ file: `--var ${l.name}`, line: 1 });
  }
  return {
    text: texts.join(''),
    flagNames: flagLines.map((l) => l.name),
    origin: (line) => origins[line - 1] ?? origins[origins.length - 1] ?? { file: '--var', line: 1 },
  };
}

/**
 * The `--var` names that no HCL source declares (`variable "<name>"`): such a
 * value would be dropped without a word, and the variable's default imported.
 */
export function undeclaredVariables(sources: readonly JobSource[], names: readonly string[]): string[] {
  const declared = new Set(sources.flatMap((s) => [...s.text.matchAll(/^[ \t]*variable[ \t]+"([^"]+)"/gm)].map((m) => m[1]!)));
  return names.filter((n) => !declared.has(n));
}

/** An HCL2 variable name, as `variable "<name>"` takes it. */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * `--var name=value` flags as lines of a variables file: each value a string
 * literal, taken as it is (no `${…}` or `%{…}` in it is evaluated, as with
 * `nomad job run -var`); Nomad converts it to the variable's type (`3` to a
 * number). A list or map value goes in a variables file (`--var-file`).
 * @throws {InputError} naming the flag: no `=`, a name that is no HCL identifier,
 * a name given twice, a control character other than a tab or a line break.
 */
export function varFlags(flags: readonly string[]): string {
  return varLines(flags)
    .map((l) => l.line)
    .join('');
}

/** {@link varFlags}, a line per flag with its name. */
function varLines(flags: readonly string[]): { name: string; line: string }[] {
  const problems: InputProblem[] = [];
  const lines: { name: string; line: string }[] = [];
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const name = eq < 0 ? flag : flag.slice(0, eq);
    const shown = `--var ${JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name)}`;
    if (eq < 0) problems.push({ subject: shown, message: 'expected name=value' });
    else if (!VARIABLE_NAME.test(name))
      problems.push({ subject: shown, message: 'is not a variable name (letters, digits, `_` and `-`, not starting with a digit or `-`)' });
    else if (lines.some((l) => l.name === name)) problems.push({ subject: shown, message: 'is given twice' });
    // eslint-disable-next-line no-control-regex
    else if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(flag.slice(eq + 1))) problems.push({ subject: shown, message: 'its value holds a control character' });
    else lines.push({ name, line: `${name} = ${literal(flag.slice(eq + 1))}\n` });
  }
  if (problems.length > 0) throw new InputError(problems);
  return lines;
}

/** A string as an HCL2 quoted literal that no template sequence in it is evaluated from. */
function literal(v: string): string {
  const escaped = v
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n')
    .replace(/\t/g, '\\t')
    // A function, not a replacement string: in one, `$$` is a single `$`.
    .replace(/\$\{/g, () => '$${')
    .replace(/%\{/g, () => '%%{');
  return `"${escaped}"`;
}

/** Whether a source holds API JSON rather than HCL. */
export function isJsonSource(src: JobSource): boolean {
  return src.file.endsWith('.json') || src.text.trimStart().startsWith('{');
}

function lineCol(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, col: (before[before.length - 1]?.length ?? 0) + 1 };
}

/**
 * The first key given twice in one object of a JSON text that JSON.parse accepted
 * (it keeps the last silently: `"ID": "web", "ID": "other"` would import `other`),
 * with the offset of its second occurrence. One linear pass.
 */
export function duplicateJsonKey(text: string): { key: string; offset: number } | undefined {
  // One entry per open object (its keys) or array (null).
  const open: (Set<string> | null)[] = [];
  let keyNext = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      const keys = open[open.length - 1];
      if (keyNext && keys !== undefined && keys !== null) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (keys.has(key)) return { key, offset: i };
        keys.add(key);
        keyNext = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      open.push(new Set());
      keyNext = true;
    } else if (c === 0x5b /* [ */) {
      open.push(null);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      open.pop();
      keyNext = false;
    } else if (c === 0x2c /* , */) {
      keyNext = open[open.length - 1] !== null;
    }
  }
  return undefined;
}

/**
 * Only the fields a job specification can hold, by the API schema (`x-hcl`):
 * server-set fields (`Status`, `Version`, `SubmitTime`, indexes…) and nulls left out.
 */
export function specFields(node: ApiSchemaNode, v: unknown): unknown {
  if (v === null || v === undefined) return undefined;
  const s = resolveRef(node);
  if (Array.isArray(v)) return v.map((x: unknown) => specFields(s.items ?? {}, x)).filter((x) => x !== undefined);
  if (!isObj(v)) return v;
  if (s.properties !== undefined) {
    const out: Obj = {};
    for (const [key, item] of Object.entries(v)) {
      // The job as the servers store it (`GET /v1/job/:id`) spells a few fields otherwise than the API
      // (a UI link's `Url`, the API's `URL`): the API's spelling, unless the job gives both.
      const k = s.properties[key] !== undefined ? key : (Object.keys(s.properties).find((p) => p.toLowerCase() === key.toLowerCase() && !(p in v)) ?? key);
      const prop = s.properties[k];
      if (prop === undefined || prop['x-hcl'] === undefined) continue;
      const x = specFields(prop, item);
      if (x !== undefined) out[k] = x;
    }
    return out;
  }
  if (
    s.additionalProperties !== undefined &&
    s.additionalProperties !== false &&
    (s.additionalProperties.$ref !== undefined || s.additionalProperties.properties !== undefined)
  ) {
    const out: Obj = {};
    for (const [k, item] of Object.entries(v)) {
      const x = specFields(s.additionalProperties, item);
      if (x !== undefined) out[k] = x;
    }
    return out;
  }
  return v;
}

/**
 * Kinds of the tasks Nomad's servers add to a group on registration, for a Connect
 * sidecar (`connect-proxy:<service>`) or gateway: a job they stored (`GET /v1/job/:id`)
 * holds them, a job specification does not, and Nomad adds them again when the job
 * is registered (with the service's `sidecar_task` merged in, which the service keeps).
 */
const INJECTED_KIND = /^connect-(?:proxy|ingress|terminating|mesh|api-gateway):/;

/** The job without the tasks Nomad's servers added for Connect (see {@link INJECTED_KIND}). */
function withoutInjectedTasks(job: Obj): Obj {
  if (!Array.isArray(job['TaskGroups'])) return job;
  return {
    ...job,
    TaskGroups: (job['TaskGroups'] as unknown[]).map((g) =>
      isObj(g) && Array.isArray(g['Tasks'])
        ? { ...g, Tasks: (g['Tasks'] as unknown[]).filter((t) => !(isObj(t) && typeof t['Kind'] === 'string' && INJECTED_KIND.test(t['Kind']))) }
        : g,
    ),
  };
}

/** The job of an API JSON document, as HCL Nomad's parser reads back. */
export function jsonToHcl(src: JobSource): string {
  let doc: unknown;
  try {
    doc = JSON.parse(src.text);
  } catch (e) {
    const m = /position (\d+)/.exec(String((e as Error).message));
    const at = m === null ? { line: 1, col: 1 } : lineCol(src.text, Number(m[1]));
    throw new InputError([{ at: { file: src.file, ...at }, subject: '(document)', message: `not valid JSON: ${(e as Error).message}` }]);
  }
  const dup = duplicateJsonKey(src.text);
  if (dup !== undefined) {
    throw new InputError([
      {
        at: { file: src.file, ...lineCol(src.text, dup.offset) },
        subject: JSON.stringify(dup.key),
        message: 'is given twice in one object; JSON keeps only the last one silently, so the job would not be the one you read: remove one',
      },
    ]);
  }
  const job = isObj(doc) && isObj(doc['Job']) ? doc['Job'] : doc;
  if (!isObj(job) || typeof job['ID'] !== 'string' || job['ID'] === '') {
    throw new InputError([
      { at: { file: src.file, line: 1, col: 1 }, subject: 'Job.ID', message: 'expected a Nomad job in API JSON (`{"Job": {"ID": …}}` or the job itself)' },
    ]);
  }
  const fields = specFields({ $ref: '#/definitions/Job' }, withoutInjectedTasks(job)) as Obj;
  if (!nomadApiSchema().definitions['Job']) throw new Error('nomad api schema: no Job');
  fields['ID'] = job['ID'];
  fields['Name'] = typeof job['Name'] === 'string' && job['Name'] !== '' ? job['Name'] : job['ID'];
  try {
    return renderJobHcl(fields as unknown as Job);
  } catch (e) {
    throw new InputError([
      { at: { file: src.file, line: 1, col: 1 }, subject: 'Job', message: `cannot be written as a job specification: ${(e as Error).message}` },
    ]);
  }
}

/**
 * Read a job file with Nomad's parser, canonicalized.
 * @throws {InputError} with Nomad's message and position when Nomad cannot read it.
 */
export async function parseSource(src: JobSource, parser: JobParser): Promise<Obj> {
  const json = isJsonSource(src);
  const hcl = json ? jsonToHcl(src) : src.text;
  try {
    return await parser.parse(hcl, json ? undefined : src.variables?.text);
  } catch (e) {
    if (!(e instanceof ParseFailure)) throw e;
    // `file("app.tpl")` and the other filesystem functions: Nomad's HTTP parser has no files to read (the CLI has).
    const fs = /Call to function "(\w+)" failed: filesystem function disabled/.exec(e.message);
    if (fs !== null && !isJsonSource(src)) {
      throw new InputError([
        {
          at: { file: src.file, line: e.line ?? 1, col: e.col ?? 1 },
          subject: 'job',
          message: `calls ${fs[1]!}(), which Nomad's parser reads only from the nomad CLI, beside the job's files (/v1/jobs/parse has no files); write the job out with \`nomad job run -output ${src.file} > job.json\` and import job.json`,
        },
      ]);
    }
    throw new InputError(parseProblems(src, e));
  }
}

/** Where a diagnostic after Nomad's first begins: a new line with its range (`input.hcl:33,26-35: …`). */
const NEXT_DIAGNOSTIC = /\n(?=[^:\s]*:\d+,\d+(?:-\d+(?:,\d+)?)?: )/;

/** A range of the text Nomad was given, inside a message (`input.hcl:16,3-13`). */
const RANGE_IN_TEXT = /\binput\.hcl:(\d+),(\d+)(?:-\d+(?:,\d+)?)?/g;

/**
 * Nomad's refusal as problems, one per diagnostic, each at its place in the file:
 * Nomad names the text it was given `input.hcl` and separates diagnostics and
 * their details with line breaks, which a one-line problem would show as `\n`.
 * The places inside a JSON source's message are of the HCL written from it, so
 * such a problem is at the document.
 */
export function parseProblems(src: JobSource, e: ParseFailure): InputProblem[] {
  const json = isJsonSource(src);
  const parts = e.message.split(NEXT_DIAGNOSTIC);
  return parts.map((part, i) => {
    const m = i === 0 ? null : POSITION.exec(part);
    const line = i === 0 ? e.line : m === null ? undefined : Number(m[1]);
    const col = i === 0 ? e.col : m === null ? undefined : Number(m[2]);
    // The variables' own problems (`unable to parse var content: input.hcl:3:1: …`): at their file and line.
    const trimmed = part.trim();
    const vars = /^unable to parse var content: [^:\s]*:(\d+),(\d+)(?:-\d+(?:,\d+)?)?: /.exec(trimmed);
    const variables = src.variables;
    if (vars !== null && variables !== undefined) {
      const o = variables.origin(Number(vars[1]));
      const rest = trimmed
        .slice(vars[0].length)
        .replace(/\s*\n\s*/g, ' ')
        .replace(/ at [^:\s]*:(\d+),\d+(?:-\d+(?:,\d+)?)?/g, (_all, l: string) => {
          const at = variables.origin(Number(l));
          return ` at ${at.file}:${at.line}`;
        });
      if (o.file.startsWith('--var ')) return { subject: o.file, message: `Nomad cannot read it: ${rest}` };
      return { at: { file: o.file, line: o.line, col: Number(vars[2]) }, subject: 'variables', message: `Nomad cannot read them: ${rest}` };
    }
    const text = (m === null ? part : part.slice(m[0].length))
      .replace(RANGE_IN_TEXT, (all, l: string, c: string) => (json ? all : `${src.file}:${l}:${c}`))
      .trim()
      // A problem of no file (an unset variable) is named `<nil>` by Nomad.
      .replace(/^<nil>: /, '')
      .replace(/\s*\n\s*/g, ' ');
    const unset = /^Unset variable "([^"]+)"/.exec(text);
    if (unset !== null) {
      return {
        at: { file: src.file, line: 1, col: 1 },
        subject: `var.${unset[1]!}`,
        message: `has no value and no default: give it with --var ${unset[1]!}=… or in a --var-file`,
      };
    }
    const at = line !== undefined && !json ? { file: src.file, line, col: col ?? 1 } : { file: src.file, line: 1, col: 1 };
    return { at, subject: 'job', message: `Nomad cannot parse it: ${text}` };
  });
}
