import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Writable } from 'node:stream';
import type { Request } from 'express';
import type { Revalidated } from '../engine/entry-options.js';
import type { LoadLease } from '../engine/load-lease.js';
import type { CachedEntry } from './cached-response.js';
import type { ConditionalHeaders } from './conditional-headers.js';
import { type Revalidation, validatorsOf } from './revalidation.js';

/** What the route's middleware does when the refresh request reaches it. */
export interface RefreshJob {
  /** The middleware instance whose entry is refreshed (others treat the request as any other). */
  readonly owner: object;
  /** Variant header names when the refreshed entry is a variant, else `undefined`. */
  readonly variantNames: readonly string[] | undefined;
  /** The lease of the engine's load, for the entries the route writes itself (a `Vary` variant). */
  readonly lease: LoadLease | undefined;
  /** The stale response this refresh revalidates (its validators are on the copy of the request). */
  readonly revalidation: Revalidation | undefined;
  /** Hands over the load of the entry; called at most once. */
  start(load: Promise<CachedEntry | Revalidated<CachedEntry | undefined> | undefined> | undefined): void;
}

/** Longest a background refresh may take before it is given up (the stale entry stays), in ms. */
export const REFRESH_TIMEOUT_MS = 30_000;

// Request headers the refresh does not repeat: it wants the full representation (RFC 9111 §4.3.1),
// and it has no body.
const NOT_REPEATED: ReadonlySet<string> = new Set([
  'if-none-match',
  'if-modified-since',
  'if-match',
  'if-unmodified-since',
  'if-range',
  'range',
  'content-length',
  'transfer-encoding',
  'expect',
]);

// The job rides on the copy of the request itself, under a symbol no other code holds (so clients
// cannot forge it) and not enumerable: it lives and dies with the request, shared with no other app.
const REFRESH_JOB = Symbol('express-cache-aside refresh job');

type RefreshRequest = IncomingMessage & { [REFRESH_JOB]?: RefreshJob };

/** The refresh job `req` carries, when it is a background refresh this package dispatched. */
export function refreshJobOf(req: IncomingMessage): RefreshJob | undefined {
  // Its own property only: an object derived from a refresh request (`Object.create(req)`) is none.
  return Object.hasOwn(req, REFRESH_JOB) ? (req as RefreshRequest)[REFRESH_JOB] : undefined;
}

/**
 * Whether `req` is a background refresh of a stale entry rather than a client's request: middleware
 * that must not see it twice (access logs, rate limits) can skip it. Clients cannot forge it.
 */
export function isBackgroundRefresh(req: IncomingMessage): boolean {
  // A JavaScript caller may pass anything: `undefined` or `null` is no refresh, not a TypeError.
  return req !== undefined && req !== null && refreshJobOf(req) !== undefined;
}

/**
 * Loads a stale entry again without a client waiting on the handler: sends a copy of `req` (GET, same
 * URL and headers, without validators) through the Express app, to a response that discards what it
 * is sent, and resolves with what the route's middleware captured from it, or `undefined` when the
 * route produced nothing storable. Rejects when the app answered with a server error (RFC 5861 §4:
 * the stale entry is then the better answer) or took longer than {@link REFRESH_TIMEOUT_MS}.
 */
export function refreshInBackground(
  req: Request,
  owner: object,
  variantNames: readonly string[] | undefined,
  lease: LoadLease | undefined,
  revalidation?: Revalidation,
): Promise<CachedEntry | Revalidated<CachedEntry | undefined> | undefined> {
  const app = req.app as { handle?: unknown } | undefined;
  if (typeof app?.handle !== 'function') return Promise.resolve(undefined);
  const handle = app.handle as (
    req: IncomingMessage,
    res: ServerResponse,
    done: (error?: unknown) => void,
  ) => void;
  const refreshRequest = copyRequest(req, revalidation === undefined ? {} : validatorsOf(revalidation.stale));
  const refreshResponse = discardingResponse(refreshRequest);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`refresh took longer than ${REFRESH_TIMEOUT_MS} ms`)),
      REFRESH_TIMEOUT_MS,
    );
    timer.unref();
  });
  const refreshed = new Promise<CachedEntry | Revalidated<CachedEntry | undefined> | undefined>((resolve) => {
    const job: RefreshJob = { owner, variantNames, lease, revalidation, start: resolve };
    Object.defineProperty(refreshRequest, REFRESH_JOB, { value: job });
    // Whatever answered without reaching the route (an earlier middleware, a 404) refreshed nothing.
    refreshResponse.once('finish', () => resolve(undefined));
    refreshResponse.once('close', () => resolve(undefined));
    handle.call(app, refreshRequest, refreshResponse, (error) => {
      // Nothing answered: no route, or an error that no error handler took. Express's final handler
      // would answer 404 or 500 here; this does too, or the route's capture would wait for an end
      // that never comes (until the refresh timeout, holding `cache.close()` that long).
      if (!refreshResponse.headersSent) {
        refreshResponse.statusCode = error === undefined ? 404 : 500;
        refreshResponse.end();
      }
      resolve(undefined);
    });
  }).then((entry) => {
    if (entry === undefined && refreshResponse.statusCode >= 500) {
      throw new Error(`the refresh was answered with status ${refreshResponse.statusCode}`);
    }
    return entry;
  });
  return Promise.race([refreshed, timedOut]).finally(() => clearTimeout(timer));
}

/** A GET copy of `req` without its validators and body headers, with `validators` instead. */
function copyRequest(req: Request, validators: Partial<ConditionalHeaders>): IncomingMessage {
  const socket = new Socket();
  // Express reads the client address and TLS state from the socket (`req.ip`, `req.protocol`).
  Object.defineProperty(socket, 'remoteAddress', { value: req.socket?.remoteAddress });
  if ((req.socket as { encrypted?: boolean } | undefined)?.encrypted === true) {
    Object.defineProperty(socket, 'encrypted', { value: true });
  }
  const copy = new IncomingMessage(socket);
  copy.method = 'GET';
  copy.url = req.originalUrl;
  copy.httpVersion = '1.1';
  copy.httpVersionMajor = 1;
  copy.httpVersionMinor = 1;
  const headers: Record<string, string | string[]> = {};
  const rawHeaders: string[] = [];
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || NOT_REPEATED.has(name)) continue;
    headers[name] = value;
    for (const item of Array.isArray(value) ? value : [value]) rawHeaders.push(name, item);
  }
  for (const [name, value] of Object.entries(validators)) {
    if (value === undefined) continue;
    headers[name] = value;
    rawHeaders.push(name, value);
  }
  copy.headers = headers;
  copy.rawHeaders = rawHeaders;
  copy.complete = true;
  copy.push(null);
  // Consumed, like a real request whose (empty) body was read: Express's final handler waits for the
  // request to end before it writes an error response, and would otherwise wait until the timeout.
  copy.resume();
  return copy;
}

function discardingResponse(req: IncomingMessage): ServerResponse {
  const res = new ServerResponse(req);
  const sink = new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
  res.assignSocket(sink as unknown as Socket);
  // The HTTP server forwards its sockets' `drain` to the response; this socket is ours to forward.
  sink.on('drain', () => res.emit('drain'));
  res.once('finish', () => sink.destroy());
  return res;
}
