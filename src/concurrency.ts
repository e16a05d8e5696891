/**
 * The one concurrency limiter: deploy plans and deploys services with it, the
 * registry copies blobs with it, the property test parses specs with it.
 */

/**
 * Run `fn` over `items` with at most `limit` calls in flight; results keep the
 * input order. After a failure no new item starts; once the calls in flight
 * have settled, the first failure is thrown.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && failed === undefined) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (err) {
        failed ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed !== undefined) throw failed.err;
  return out;
}
