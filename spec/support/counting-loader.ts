/** A loader that counts its calls and answers with what `answer()` gives. */
export interface CountingLoader<T> {
  calls: number;
  load: () => Promise<T>;
}

/** A new {@link CountingLoader}: `load` counts the call, then answers `answer()`. */
export function countingLoader<T>(answer: () => T | Promise<T>): CountingLoader<T> {
  const loader: CountingLoader<T> = {
    calls: 0,
    load: async () => {
      loader.calls++;
      return answer();
    },
  };
  return loader;
}
