/**
 * Go durations (`time.ParseDuration`): what Nomad accepts for every duration
 * field. Parsed to integer nanoseconds, the API's unit, and written back in the
 * shortest form Go parses to the same value.
 */

const UNIT_NS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * Parse a Go duration such as `30s`, `1m30s`, `1.5h` or `250ms` to nanoseconds.
 * Negative durations and `0` without a unit are accepted as Go does.
 * @returns the nanoseconds, or undefined when the text is not a Go duration or
 * does not fit in a safe integer.
 */
export function parseDuration(text: string): number | undefined {
  // Specs repeat a few durations (`10s`, `30s`) thousands of times: each is parsed once.
  return parsedDurations(text);
}

/**
 * `fn` remembering its results by argument, at most `max` of them (then it
 * starts again): for pure functions the spec check calls with few distinct values.
 */
export function memoized<T>(fn: (key: string) => T, max = 4096): (key: string) => T {
  const seen = new Map<string, T>();
  return (key) => {
    if (seen.has(key)) return seen.get(key) as T;
    const v = fn(key);
    if (seen.size >= max) seen.clear();
    seen.set(key, v);
    return v;
  };
}

const parsedDurations = memoized(parseUncached);

function parseUncached(text: string): number | undefined {
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    sign = s.startsWith('-') ? -1 : 1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  PART.lastIndex = 0;
  let pos = 0;
  while (pos < s.length) {
    PART.lastIndex = pos;
    const m = PART.exec(s);
    if (m === null) return undefined;
    const [, num, unit] = m;
    // The fraction as Go computes it: digits × (unit / 10^digits), truncated.
    const [int = '0', frac = ''] = num!.split('.');
    const scale = UNIT_NS[unit!]!;
    let ns = Number(int) * scale;
    if (frac !== '') ns += Math.trunc(Number(frac) * (scale / 10 ** frac.length));
    total += ns;
    pos = PART.lastIndex;
  }
  const v = sign * total;
  return Number.isSafeInteger(v) ? v : undefined;
}

/**
 * Nanoseconds as a Go duration string, largest units first, zero parts left out:
 * 300e9 → `5m`, 90e9 → `1m30s`, 1.5e9 → `1s500ms`, 0 → `0s`.
 */
export function formatDuration(ns: number): string {
  if (!Number.isSafeInteger(ns)) throw new Error(`duration: ${ns} is not an integer number of nanoseconds`);
  if (ns === 0) return '0s';
  let rest = Math.abs(ns);
  let out = ns < 0 ? '-' : '';
  for (const [unit, size] of [
    ['h', 3600e9],
    ['m', 60e9],
    ['s', 1e9],
    ['ms', 1e6],
    ['us', 1e3],
    ['ns', 1],
  ] as const) {
    if (rest >= size) {
      const n = Math.floor(rest / size);
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
