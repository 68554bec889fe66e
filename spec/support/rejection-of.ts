/**
 * What `work` rejected with: a promise, or a function whose call may also throw at once (as a JavaScript
 * caller's mistake can). Fails when it fulfils.
 */
export async function rejectionOf(work: Promise<unknown> | (() => Promise<unknown>)): Promise<unknown> {
  let value: unknown;
  try {
    value = await (typeof work === 'function' ? work() : work);
  } catch (error) {
    return error;
  }
  throw new Error(`expected a rejection, got ${String(value)}`);
}
