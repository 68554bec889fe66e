import type { OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { ownedBytes } from '../engine/owned-bytes.js';
import type { StoredHeader } from './cached-response.js';
import { type NotStoredReason, parseVary } from './response-policy.js';

/** A complete response as the client received it from the handler. */
export interface CapturedResponse {
  status: number;
  /** The headers to store: set or changed by the handler (and middleware after this one). */
  headers: StoredHeader[];
  body: Buffer;
  /**
   * `Vary` as the client received it, whoever set it (see {@link varyOfStoredBytes}): it says what the
   * response depends on even when it is not stored.
   */
  vary: OutgoingHttpHeader | undefined;
  /** `Cache-Control` as the client received it, whoever set it. */
  cacheControl: OutgoingHttpHeader | undefined;
  /** `Expires`, `Date` and `Age` as the handler set them (freshness, RFC 9111 §4.2); Node adds no `Date` here. */
  expires: OutgoingHttpHeader | undefined;
  date: OutgoingHttpHeader | undefined;
  age: OutgoingHttpHeader | undefined;
}

type CapturedHead = Omit<CapturedResponse, 'body'>;

/** The captured response, or why there is none. */
export type CaptureOutcome =
  | { captured: CapturedResponse; reason?: undefined }
  | { captured?: undefined; reason: NotStoredReason };

/** How {@link captureResponse} decides what to keep. */
export interface CaptureOptions {
  /** Largest body kept, in bytes; a larger one is passed through and dropped from memory. */
  maxBodyBytes: number;
  /**
   * Called once, right after the headers went out, with the response as the client received it (every
   * earlier middleware's `writeHead` hook has run); a reason stops the capture there.
   */
  decide(res: ServerResponse): NotStoredReason | undefined;
  /**
   * Headers already on the response before the handler ran. Earlier middleware sets them on every
   * request (a request id, CORS), so a hit gets its own; they are kept only if the handler changed them.
   */
  inherited: OutgoingHttpHeaders;
  /** Aborting it stops the capture: another answer replaced the response, which is then not stored. */
  abandon?: CaptureAbandon;
}

/**
 * Stops a capture from outside: another answer replaced the response. Does what an `AbortController`
 * would, at a fraction of its cost, which every miss pays.
 */
export class CaptureAbandon {
  #aborted = false;
  #listener: (() => void) | undefined;

  get aborted(): boolean {
    return this.#aborted;
  }

  abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#listener?.();
  }

  /** `listener` runs once, at the first `abort()` (at once when that has happened already). */
  onAbort(listener: () => void): void {
    if (this.#aborted) listener();
    else this.#listener = listener;
  }
}

// RFC 9111 §3.1: hop-by-hop and proxy-specific fields are not stored (RFC 9110 §7.6.1). Content-Length,
// Date and Age are set afresh on replay, X-Cache tells each request's own outcome.
const UNSTORED_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authenticate',
  'proxy-authentication-info',
  'content-length',
  'date',
  'age',
  'x-cache',
]);

type Chunk = string | Uint8Array;
type RawHeaderNames = ServerResponse & { getRawHeaderNames(): string[] };

/**
 * Records the response `res` sends while it streams to the client, by wrapping `writeHead`, `write`
 * and `end` the way `compression` does: the originals run first and their return values (backpressure)
 * are passed back untouched, and string chunks are converted with their own encoding.
 *
 * The headers stored are those the handler (and middleware after this one) set. The storage decision
 * is taken once, on the headers the client actually received: middleware mounted earlier (sessions,
 * `on-headers`) adds its headers inside the original `writeHead`, after this wrapper runs, and a cookie
 * or `private` it adds there must stop the capture as surely as the handler's own.
 *
 * Resolves when `end` is called (never delaying the client); as soon as the response is known not to
 * be stored (at header time, or when the body outgrows the limit), so that nobody waits for a response
 * they will not get; or with reason `aborted` when the response closes before it ends.
 */
export function captureResponse(res: ServerResponse, options: CaptureOptions): Promise<CaptureOutcome> {
  return new Promise((resolve) => {
    const originalWriteHead = res.writeHead;
    const originalWrite = res.write;
    const originalEnd = res.end;
    let chunks: Buffer[] | undefined = [];
    let bodyBytes = 0;
    let reason: NotStoredReason | undefined;
    let head: CapturedHead | undefined;
    let ended = false;

    const stop = (why: NotStoredReason) => {
      reason ??= why;
      chunks = undefined;
      resolve({ reason });
    };
    const collect = (chunk: unknown, encoding: unknown) => {
      if (chunks === undefined || !isChunk(chunk)) return;
      const bytes = toBuffer(chunk, encoding);
      bodyBytes += bytes.length;
      if (bodyBytes > options.maxBodyBytes) stop('too-large');
      else chunks.push(bytes);
    };
    // The capture always settles, or the load it belongs to would never end: a body that cannot be
    // read whole any more (the application detached or shrank a chunk's memory after writing it) is
    // not stored.
    const outcomeAtEnd = (chunk: unknown, encoding: unknown): CaptureOutcome => {
      try {
        collect(chunk, encoding);
        if (reason !== undefined) return { reason };
        if (head === undefined || chunks === undefined) return { reason: 'aborted' };
        // The body may live on in the in-process tier: it owns its memory, exactly.
        return { captured: { ...head, body: ownedBytes(chunks, bodyBytes) } };
      } catch {
        return { reason: 'aborted' };
      }
    };
    const onClose = () => {
      if (!ended) resolve({ reason: 'aborted' });
    };
    res.once('close', onClose);
    options.abandon?.onAbort(() => stop('aborted'));

    res.writeHead = function writeHead(this: ServerResponse, ...args: unknown[]) {
      const forwarded = applyWriteHeadArguments(this, args);
      if (head !== undefined || reason !== undefined)
        return Reflect.apply(originalWriteHead, this, forwarded);
      const stored = storedHeaders(this, options.inherited);
      const varyBefore = this.getHeader('vary');
      const result = Reflect.apply(originalWriteHead, this, forwarded);
      const why = options.decide(this);
      if (why === undefined) {
        const vary = varyOfStoredBytes(varyBefore, this.getHeader('vary'));
        head = {
          status: this.statusCode,
          headers: stored,
          vary,
          cacheControl: this.getHeader('cache-control'),
          expires: this.getHeader('expires'),
          date: this.getHeader('date'),
          age: this.getHeader('age'),
        };
      } else {
        stop(why);
      }
      return result;
    } as ServerResponse['writeHead'];

    res.write = function write(this: ServerResponse, ...args: unknown[]) {
      const accepted = Reflect.apply(originalWrite, this, args) as boolean;
      collect(args[0], args[1]);
      return accepted;
    } as ServerResponse['write'];

    res.end = function end(this: ServerResponse, ...args: unknown[]) {
      if (ended) return Reflect.apply(originalEnd, this, args);
      ended = true;
      res.off('close', onClose);
      try {
        return Reflect.apply(originalEnd, this, args);
      } finally {
        resolve(outcomeAtEnd(args[0], args[1]));
        chunks = undefined;
      }
    } as ServerResponse['end'];
  });
}

/**
 * Applies the headers given to `writeHead(status, [message], headers)` with `setHeader`, as
 * `on-headers` does, so that everyone reads them from the response; returns the arguments to forward.
 */
export function applyWriteHeadArguments(res: ServerResponse, args: unknown[]): unknown[] {
  const headers = headersArgument(args);
  if (typeof args[0] === 'number') res.statusCode = args[0];
  // Node's own implicit `writeHead(status)` on every `end`: nothing to apply, nothing to cut.
  if (headers === undefined) return args;
  const headersAt = typeof args[1] === 'string' ? 2 : 1;
  if (Array.isArray(headers)) {
    applyHeaderArray(res, headers);
  } else if (typeof headers === 'object' && headers !== null) {
    for (const [name, value] of Object.entries(headers)) {
      if (name) res.setHeader(name, value as OutgoingHttpHeader);
    }
  }
  return args.slice(0, headersAt);
}

/** The headers given to `writeHead(status, [message], [headers])`, if any. */
export function headersArgument(args: readonly unknown[]): unknown {
  // Node reads the headers from the third argument whenever the second is no reason phrase.
  return typeof args[1] === 'string' ? args[2] : (args[2] ?? args[1]);
}

function applyHeaderArray(res: ServerResponse, headers: unknown[]): void {
  if (headers.length > 0 && Array.isArray(headers[0])) {
    for (const [name, value] of headers as [string, OutgoingHttpHeader][]) {
      if (name) res.setHeader(name, value);
    }
    return;
  }
  if (headers.length % 2 !== 0)
    throw new TypeError('writeHead: the headers array must hold name, value pairs');
  // A flat list may repeat a name: each occurrence is one more value.
  for (let index = 0; index < headers.length; index += 2) res.removeHeader(String(headers[index]));
  for (let index = 0; index < headers.length; index += 2) {
    res.appendHeader(String(headers[index]), headers[index + 1] as string | readonly string[]);
  }
}

/**
 * The headers of `res` to store: those the handler set or changed relative to `inherited`, without
 * hop-by-hop and per-response fields; and, as `[name, []]`, inherited ones the handler removed.
 */
export function storedHeaders(res: ServerResponse, inherited: OutgoingHttpHeaders): StoredHeader[] {
  const listedInConnection = connectionOptions(res.getHeader('connection'));
  const headers: StoredHeader[] = [];
  // Node ≥ 15.13 keeps the names as the handler spelled them; the replay sends them the same way.
  for (const name of (res as RawHeaderNames).getRawHeaderNames()) {
    const lowerName = name.toLowerCase();
    if (UNSTORED_HEADERS.has(lowerName) || listedInConnection.has(lowerName)) continue;
    const value = res.getHeader(lowerName);
    if (value === undefined || sameHeaderValue(inherited[lowerName], value)) continue;
    headers.push([name, Array.isArray(value) ? [...value] : String(value)]);
  }
  // A header set before the handler that the handler removed (helmet hides X-Powered-By, which Express
  // sets on every request): the hit must not bring it back, so its removal is stored too.
  for (const name of Object.keys(inherited)) {
    if (!UNSTORED_HEADERS.has(name) && !res.hasHeader(name)) headers.push([name, []]);
  }
  return headers;
}

/**
 * The `Vary` that the stored bytes depend on: what the client received, less an `Accept-Encoding` that
 * only an earlier middleware's hook added. That middleware (`compression` mounted before the cache)
 * encodes after this capture, which stores the identity bytes, and it negotiates afresh on every hit.
 */
function varyOfStoredBytes(
  beforeHooks: OutgoingHttpHeader | undefined,
  sent: OutgoingHttpHeader | undefined,
): OutgoingHttpHeader | undefined {
  const sentNames = parseVary(sent);
  if (sentNames === '*' || !sentNames.includes('accept-encoding')) return sent;
  const namesBefore = parseVary(beforeHooks);
  if (namesBefore === '*' || namesBefore.includes('accept-encoding')) return sent;
  const kept = sentNames.filter((name) => name !== 'accept-encoding');
  return kept.length === 0 ? undefined : kept.join(', ');
}

/** A response without `Connection` (nearly all of them) names no field in it. */
const NO_NAMES: ReadonlySet<string> = new Set();

/** RFC 9110 §7.6.1: fields named in `Connection` are hop-by-hop too. */
function connectionOptions(value: OutgoingHttpHeader | undefined): ReadonlySet<string> {
  if (value === undefined) return NO_NAMES;
  const text = Array.isArray(value) ? value.join(',') : String(value);
  return new Set(text.split(',').map((name) => name.trim().toLowerCase()));
}

function sameHeaderValue(before: OutgoingHttpHeader | undefined, after: OutgoingHttpHeader): boolean {
  if (before === undefined) return false;
  if (!Array.isArray(before) || !Array.isArray(after)) return String(before) === String(after);
  return before.length === after.length && before.every((item, index) => item === after[index]);
}

function isChunk(chunk: unknown): chunk is Chunk {
  return typeof chunk === 'string' || chunk instanceof Uint8Array;
}

function toBuffer(chunk: Chunk, encoding: unknown): Buffer {
  if (typeof chunk === 'string') {
    return Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  }
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
