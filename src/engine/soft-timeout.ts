/**
 * Waits for `task` at most `timeoutMs` (0: no limit). Resolves to `undefined` when time ran out;
 * the task itself goes on, and its rejection still reaches whoever else awaits it.
 */
export async function withSoftTimeout<T>(task: Promise<T>, timeoutMs: number): Promise<T | undefined> {
  if (timeoutMs === 0) return task;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, timeoutMs, undefined);
  });
  try {
    return await Promise.race([task, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
