/** Runs `fn` over `items`, at most `limit` at a time (each may spawn processes; cores are few). */
export async function inParallel<T>(
  items: readonly T[],
  fn: (item: T, index: number) => Promise<unknown>,
  limit = 16,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
