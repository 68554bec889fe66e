import type { IncomingMessage } from 'node:http';

/** The request fields that make a request conditional on the validators a client holds. */
export type ConditionalHeaders = Record<'if-none-match' | 'if-modified-since', string | undefined>;

/** The request's conditional fields as they are now. */
export function conditionalHeadersOf(req: IncomingMessage): ConditionalHeaders {
  const { headers } = req;
  return {
    'if-none-match': single(headers['if-none-match']),
    'if-modified-since': single(headers['if-modified-since']),
  };
}

/**
 * Replaces the request's conditional fields with `conditions` (`undefined` removes one), in
 * `req.headers` and in `req.rawHeaders` alike: a handler that forwards the raw field lines (a
 * proxy) must see the same conditions as one that reads `req.get()`.
 */
export function setConditionalHeaders(req: IncomingMessage, conditions: ConditionalHeaders): void {
  // Every miss clears the client's conditions, and most requests carry none: then nothing changes, and
  // the header lists are left as Node built them.
  const { headers } = req;
  if (
    conditions['if-none-match'] === undefined &&
    conditions['if-modified-since'] === undefined &&
    headers['if-none-match'] === undefined &&
    headers['if-modified-since'] === undefined &&
    !hasRawConditions(req.rawHeaders)
  ) {
    return;
  }
  const names = new Set(Object.keys(conditions));
  const raw: string[] = [];
  for (let index = 0; index + 1 < req.rawHeaders.length; index += 2) {
    const name = req.rawHeaders[index] as string;
    if (!names.has(name.toLowerCase())) raw.push(name, req.rawHeaders[index + 1] as string);
  }
  for (const [name, value] of Object.entries(conditions)) {
    if (value === undefined) {
      delete req.headers[name];
    } else {
      req.headers[name] = value;
      raw.push(name, value);
    }
  }
  req.rawHeaders = raw;
}

/** Whether the raw field lines hold a conditional field (a middleware may have removed it from `headers` only). */
function hasRawConditions(rawHeaders: readonly string[]): boolean {
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index] as string;
    // Only names of the right length are lower-cased: most requests have none.
    if (
      (name.length === 13 || name.length === 17) &&
      (name.toLowerCase() === 'if-none-match' || name.toLowerCase() === 'if-modified-since')
    ) {
      return true;
    }
  }
  return false;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
