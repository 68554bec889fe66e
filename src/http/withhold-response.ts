import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { applyWriteHeadArguments } from './capture-response.js';

/** What became of a withheld response: it went out, it is a server error held back, or the client left. */
type WithholdDecision = 'sent' | 'server-error' | 'not-modified' | 'closed';

/** A handler's response that reaches the client only once its status shows it is no server error. */
export interface WithheldResponse {
  /** Settles at the status line: `sent` (under 500, now streaming to the client), `server-error`, or `closed`. */
  readonly decision: Promise<WithholdDecision>;
  /**
   * Answers the client with `respond` instead of the handler, whose response has not gone out: the
   * headers go back to what they were before the handler ran, and what the handler still sends is
   * dropped. Returns false (and does nothing) once the handler's response went out.
   */
  takeOver(respond: () => void): boolean;
  /**
   * Sends the server error that was held back, as the handler made it, and what it still sends after
   * it (when nothing else can answer).
   */
  release(): void;
}

type Call = { method: 'writeHead' | 'write' | 'end'; args: unknown[] };

/**
 * Holds back the response `res` is about to send until its status is known: under 500 it goes to the
 * client untouched (wrapping only `writeHead`, `write` and `end`, passing their results through); a
 * server error is held, so that a stale entry can answer instead (RFC 5861 §4), up to `maxHeldBytes`
 * of it, to be sent after all when nothing else can answer. Install it after the capture, so that
 * what it drops never reaches the capture either.
 */
export function withholdResponse(
  res: ServerResponse,
  options: {
    inherited: OutgoingHttpHeaders;
    maxHeldBytes: number;
    /** Called when the response starts to go out: the handler answers the client. */
    onSend: () => void;
    /** Called when `takeOver` lets another answer replace the response. */
    onTakeOver: () => void;
    /** Holds a `304 Not Modified` too: the handler answered a revalidation the client did not ask for. */
    holdNotModified?: boolean;
  },
): WithheldResponse {
  const originalWriteHead = res.writeHead;
  const originalWrite = res.write;
  const originalEnd = res.end;
  const originals = { writeHead: originalWriteHead, write: originalWrite, end: originalEnd };
  // Names as earlier middleware spelled them, to put them back as they were.
  const rawNames = (res as ServerResponse & { getRawHeaderNames(): string[] }).getRawHeaderNames();
  const inheritedNames = new Map(rawNames.map((name) => [name.toLowerCase(), name]));
  let state: 'pending' | 'sent' | 'held' | 'dropped' = 'pending';
  let ours = false;
  let held: Call[] | undefined = [];
  let heldBytes = 0;
  let decide: (decision: WithholdDecision) => void = () => {};
  const decision = new Promise<WithholdDecision>((resolve) => {
    decide = resolve;
  });
  res.once('close', () => decide('closed'));

  const passes = () => ours || state === 'sent';
  /** Runs the status decision when the handler writes before any `writeHead` (Node's implicit header). */
  const settleHead = (response: ServerResponse) => {
    if (state === 'pending' && !response.headersSent) response.writeHead(response.statusCode);
  };
  const hold = (call: Call, chunk: unknown) => {
    if (state !== 'held' || held === undefined) return;
    heldBytes +=
      typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk instanceof Uint8Array ? chunk.length : 0;
    if (heldBytes > options.maxHeldBytes) held = undefined;
    else held.push(call);
  };

  res.writeHead = function writeHead(this: ServerResponse, ...args: unknown[]) {
    if (passes()) return Reflect.apply(originalWriteHead, this, args);
    if (state !== 'pending') return this;
    const status = typeof args[0] === 'number' ? args[0] : this.statusCode;
    if (status >= 500 || (status === 304 && options.holdNotModified === true)) {
      state = 'held';
      // The headers given to writeHead go on the response now, where the cache reads a 304's.
      held?.push({ method: 'writeHead', args: applyWriteHeadArguments(this, args) });
      decide(status === 304 ? 'not-modified' : 'server-error');
      return this;
    }
    state = 'sent';
    options.onSend();
    decide('sent');
    return Reflect.apply(originalWriteHead, this, args);
  } as ServerResponse['writeHead'];

  res.write = function write(this: ServerResponse, ...args: unknown[]) {
    settleHead(this);
    if (passes()) return Reflect.apply(originalWrite, this, args) as boolean;
    hold({ method: 'write', args }, args[0]);
    callBack(args);
    return true;
  } as ServerResponse['write'];

  res.end = function end(this: ServerResponse, ...args: unknown[]) {
    settleHead(this);
    if (passes()) return Reflect.apply(originalEnd, this, args);
    hold({ method: 'end', args }, typeof args[0] === 'function' ? undefined : args[0]);
    callBack(args);
    return this;
  } as ServerResponse['end'];

  const answer = (respond: () => void) => {
    ours = true;
    // The answer goes out beneath anything mounted after the cache (compression after the route has
    // taken the handler's `end` already), as a hit's replay does, which runs before such middleware.
    const outer = { writeHead: res.writeHead, write: res.write, end: res.end };
    Object.assign(res, originals);
    try {
      respond();
    } finally {
      Object.assign(res, outer);
      ours = false;
      state = 'dropped';
      held = undefined;
      blindHandler(res);
    }
  };

  return {
    decision,
    takeOver(respond) {
      if (state === 'sent' || res.headersSent) return false;
      options.onTakeOver();
      restoreHeaders(res, options.inherited, inheritedNames);
      res.statusCode = 200;
      answer(respond);
      return true;
    },
    release() {
      if (state !== 'held' || res.headersSent) return;
      const calls = held;
      if (calls !== undefined) {
        // What was held goes out now, and what the handler still sends follows it.
        held = undefined;
        state = 'sent';
        ours = true;
        try {
          // Their callbacks ran when they were held.
          for (const { method, args } of calls) {
            Reflect.apply(
              originals[method],
              res,
              args.filter((arg) => typeof arg !== 'function'),
            );
          }
        } finally {
          ours = false;
        }
        return;
      }
      // The error body outgrew what may be held: its status goes out, without the body.
      const status = res.statusCode;
      restoreHeaders(res, options.inherited, inheritedNames);
      res.statusCode = status;
      answer(() => res.end());
    },
  };
}

/** Puts the response's headers back to `inherited`: what earlier middleware set before the handler. */
function restoreHeaders(
  res: ServerResponse,
  inherited: OutgoingHttpHeaders,
  names: ReadonlyMap<string, string>,
): void {
  for (const name of res.getHeaderNames()) {
    if (!(name in inherited)) res.removeHeader(name);
  }
  for (const [name, value] of Object.entries(inherited)) {
    if (value !== undefined) res.setHeader(names.get(name) ?? name, value);
  }
}

/**
 * Once another answer went out in the handler's place, the handler goes on as if its response were
 * still to be sent: it may set headers as it finishes (`res.json` sets Content-Type), and an error it
 * passes on reaches an error handler that, seeing headers sent, would destroy the socket under the
 * answer still streaming. So the headers look unsent to it, and its header changes are dropped.
 */
function blindHandler(res: ServerResponse): void {
  const ignore = function ignored(this: ServerResponse) {
    return this;
  };
  res.setHeader = ignore as ServerResponse['setHeader'];
  res.appendHeader = ignore as ServerResponse['appendHeader'];
  res.removeHeader = ignore as ServerResponse['removeHeader'];
  Object.defineProperty(res, 'headersSent', { configurable: true, get: () => false });
}

/** A dropped `write`/`end` still calls its callback, so streams piping into the response finish. */
function callBack(args: unknown[]): void {
  const callback = args.findLast((arg) => typeof arg === 'function') as (() => void) | undefined;
  if (callback !== undefined) process.nextTick(callback);
}
