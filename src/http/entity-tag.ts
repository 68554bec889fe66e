import { createHash } from 'node:crypto';

/**
 * A weak entity tag for `body`, in the form Express's own ETags take: `W/"<length>-<sha1>"`. Weak
 * because a compression middleware in front of the cache may send the same content with another
 * encoding (RFC 9110 §8.8.1: a strong tag changes with every byte of the representation).
 */
export function computeEntityTag(body: Buffer): string {
  const digest = createHash('sha1').update(body).digest('base64').slice(0, 27);
  return `W/"${body.length.toString(16)}-${digest}"`;
}

/**
 * RFC 9110 §13.1.2: whether an `If-None-Match` field value matches `etag`, by weak comparison
 * (§8.8.3.2: opaque tags equal, `W/` ignored); `*` matches any current representation. Tags may
 * contain commas, so the list is scanned quoted string by quoted string.
 */
export function matchesIfNoneMatch(fieldValue: string, etag: string): boolean {
  if (fieldValue === etag) return true;
  const wanted = opaqueTag(etag);
  let index = 0;
  while (index < fieldValue.length) {
    const char = fieldValue[index];
    if (char === ' ' || char === '\t' || char === ',') {
      index++;
      continue;
    }
    if (char === '*') return true;
    if (fieldValue.startsWith('W/', index)) index += 2;
    if (fieldValue[index] !== '"') return false;
    const closeAt = fieldValue.indexOf('"', index + 1);
    if (closeAt === -1) return false;
    if (fieldValue.slice(index, closeAt + 1) === wanted) return true;
    index = closeAt + 1;
  }
  return false;
}

function opaqueTag(etag: string): string {
  return etag.startsWith('W/') ? etag.slice(2) : etag;
}
