/**
 * "Did you mean …?" for unknown keys and enum values.
 */

/** Edit distance (insertions, deletions, substitutions, adjacent swaps). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

function normalize(s: string): string {
  return s
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[-\s]/g, '_')
    .toLowerCase();
}

/**
 * The closest candidate to `word`, if one is close enough to be a likely typo:
 * the same word in another case or with `-`/camelCase instead of `_`, or within
 * an edit distance of about a third of its length.
 */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  // No key or value worth suggesting for is this long; the edit distance is quadratic.
  if (word.length > 256) return undefined;
  const n = normalize(word);
  for (const c of candidates) if (normalize(c) === n) return c;
  // An abbreviation: `prod` for `production`.
  if (n.length >= 3) {
    const prefixed = candidates.filter((c) => normalize(c).startsWith(n));
    if (prefixed.length === 1) return prefixed[0];
  }
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const dist = editDistance(n, normalize(c));
    if (dist < bestDistance) {
      best = c;
      bestDistance = dist;
    }
  }
  const limit = Math.max(1, Math.floor(Math.max(word.length, 3) / 3));
  return bestDistance <= limit ? best : undefined;
}
