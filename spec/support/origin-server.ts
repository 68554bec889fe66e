import http, { type IncomingHttpHeaders, type Server } from 'node:http';

/** Response fields by name; an array sends one field line per value. */
export type ReplyHeaders = Record<string, string | string[]>;

/** What the origin answers to one request; every field optional (200, no extra headers, a numbered body). */
export interface OriginReply {
  status?: number;
  /** Sent as given: a `Date` here replaces the one Node would add, an array sends one field line per value. */
  headers?: ReplyHeaders;
  body?: string;
}

/** A request as the origin received it. */
export interface OriginRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/** The reply to the `count`-th request (1-based) the origin received. */
export type OriginProgram = (request: OriginRequest, count: number) => OriginReply;

/** The reply of an origin nobody programmed: 200, `text/plain`, body `origin response <count>`. */
export const DEFAULT_PROGRAM: OriginProgram = (_request, count) => ({ body: `origin response ${count}` });

/**
 * The status, headers and body the `count`-th request gets under `program`, with the defaults filled in:
 * what an origin server sends, or what an in-process handler sets itself.
 */
export function replyOf(
  program: OriginProgram,
  request: OriginRequest,
  count: number,
): Required<OriginReply> {
  const reply = program(request, count);
  return {
    status: reply.status ?? 200,
    headers: { 'content-type': 'text/plain; charset=utf-8', ...reply.headers },
    body: reply.body ?? `origin response ${count}`,
  };
}

/** An origin server (node:http on 127.0.0.1) whose answers a spec programs, and which counts requests. */
export interface Origin {
  readonly port: number;
  /** Every request received, in order; its length is the number of requests that reached the origin. */
  readonly requests: readonly OriginRequest[];
  /** Replaces the reply program (the default is {@link DEFAULT_PROGRAM}). */
  program(program: OriginProgram): void;
  close(): Promise<void>;
}

/** Starts an origin on a free 127.0.0.1 port. */
export async function startOrigin(): Promise<Origin> {
  const requests: OriginRequest[] = [];
  let program = DEFAULT_PROGRAM;
  const server: Server = http.createServer((req, res) => {
    const request: OriginRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers };
    requests.push(request);
    // Read the request body, if any, before answering.
    req.resume();
    req.once('end', () => {
      const reply = replyOf(program, request, requests.length);
      for (const [name, value] of Object.entries(reply.headers)) res.setHeader(name, value);
      res.writeHead(reply.status);
      if (req.method === 'HEAD') res.end();
      else res.end(reply.body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the origin is not listening on TCP');
  return {
    port: address.port,
    requests,
    program: (next) => {
      program = next;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
