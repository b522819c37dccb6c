/** Hands out a fixed set of items one request at a time; requests beyond the set wait in arrival order. */
export interface SequencePool<T> {
  use<R>(work: (item: T) => Promise<R>): Promise<R>;
}

export function createSequencePool<T>(items: T[]): SequencePool<T> {
  const free = [...items];
  const waiting: Array<(item: T) => void> = [];
  const release = (item: T) => {
    const next = waiting.shift();
    if (next) next(item);
    else free.push(item);
  };
  return {
    async use(work) {
      const item = free.pop() ?? (await new Promise<T>((resolve) => waiting.push(resolve)));
      try {
        return await work(item);
      } finally {
        release(item);
      }
    },
  };
}
