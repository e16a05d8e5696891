/**
 * The one door for hcl2-parser (tmccombs/hcl2json compiled to JavaScript with
 * GopherJS). Its `any` results become checked `unknown` here, and its failures —
 * which it reports as an empty error object without a message — become a thrown
 * {@link HclParseError}. Loaded lazily: the module is 3.8 MB of JavaScript and
 * only tests and `validate --parse-check` need it.
 */
import { createRequire } from 'node:module';

/** The text is not HCL2 that hcl2json accepts. */
export class HclParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HclParseError';
  }
}

type ParseToString = (input: string) => unknown;

let parseToString: ParseToString | undefined;

function load(): ParseToString {
  if (parseToString !== undefined) return parseToString;
  const require = createRequire(import.meta.url);
  const mod: unknown = require('hcl2-parser');
  const fn = typeof mod === 'object' && mod !== null ? (mod as Record<string, unknown>)['parseToString'] : undefined;
  if (typeof fn !== 'function') throw new HclParseError('hcl2-parser: the module has no parseToString function');
  parseToString = fn as ParseToString;
  return parseToString;
}

/**
 * Parse HCL2 text into hcl2json's JSON shape: every block becomes an object keyed
 * by its labels whose leaves are arrays of bodies (`{job: {web: [{…}]}}`).
 * @throws {HclParseError} when the text does not parse; hcl2-parser gives no detail,
 * so the message names the first lines of the input instead.
 */
export function parseHcl(text: string): Record<string, unknown> {
  const result = load()(text);
  if (!Array.isArray(result) || result.length !== 2) {
    throw new HclParseError(`hcl2-parser: unexpected result shape ${typeof result}`);
  }
  const [json, err] = result as [unknown, unknown];
  if (err !== null && err !== undefined) {
    const detail =
      typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string'
        ? (err as { message: string }).message
        : 'the text is not valid HCL2 (hcl2-parser gives no detail)';
    throw new HclParseError(`hcl2-parser: ${detail}`);
  }
  if (typeof json !== 'string') throw new HclParseError('hcl2-parser: no JSON text returned');
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (e) {
    throw new HclParseError(`hcl2-parser: returned invalid JSON (${(e as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new HclParseError('hcl2-parser: the document is not an object');
  }
  return parsed as Record<string, unknown>;
}
