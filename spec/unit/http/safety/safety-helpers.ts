import type { RequestListener } from 'node:http';
import type { Express, Request } from 'express';
import request from 'supertest';
import { type ExpressModule, express4, express5 } from '../../../support/app-factory.js';
import { served } from '../../../support/served.js';

/** Both Express majors the middleware supports, for `describe` loops. */
export const EXPRESS_MAJORS: readonly (readonly [string, ExpressModule])[] = [
  ['Express 4', express4],
  ['Express 5', express5],
];

/** What the specs keep in a session (express-session or cookie-session). */
export interface SpecSession {
  userId?: number;
  csrf?: string;
  visited?: boolean;
  x?: string;
  views?: number;
  user?: string;
}

/**
 * The session a session middleware put on `req`. Read through a cast: the project may load the types
 * of express-session and cookie-session together, whose `req.session` declarations differ.
 */
export function sessionOf(req: Request): SpecSession | undefined {
  return (req as unknown as { session?: SpecSession | null }).session ?? undefined;
}

/** A user as the passport spec's strategies and `req.user` know it. */
export interface SpecUser {
  id: number;
  username: string;
}

/** `req.user` as passport sets it (its type is an empty interface unless augmented). */
export function userOf(req: Request): SpecUser | undefined {
  return (req as unknown as { user?: SpecUser }).user;
}

/** The `Set-Cookie` lines of a response (none: an empty array). */
export function setCookiesOf(response: request.Response): string[] {
  const value: unknown = response.headers['set-cookie'];
  if (value === undefined) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

/** The value of cookie `name` set by `response`, or `undefined`. */
export function cookieValue(response: request.Response, name: string): string | undefined {
  for (const line of setCookiesOf(response)) {
    const pair = line.split(';', 1)[0] ?? '';
    const equalsAt = pair.indexOf('=');
    if (equalsAt !== -1 && pair.slice(0, equalsAt).trim() === name) return pair.slice(equalsAt + 1);
  }
  return undefined;
}

/** A `Cookie` request header that sends back every cookie `response` set. */
export function cookieHeaderFrom(response: request.Response): string {
  return setCookiesOf(response)
    .map((line) => line.split(';', 1)[0] ?? '')
    .join('; ');
}

/** The JSON body of a response as an object (supertest parses JSON, decompressing it first). */
export function jsonOf(response: request.Response): Record<string, unknown> {
  const body: unknown = response.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new Error(`expected a JSON object body, got ${JSON.stringify(body)} (${response.text})`);
  }
  return body as Record<string, unknown>;
}

/** A supertest client for `app` on its one listening port for this test (see `served`). */
export async function client(app: RequestListener) {
  return request(await served(app));
}

/** A supertest agent (it keeps the cookies it is sent, like a browser) for `app` on its one port. */
export async function browser(app: RequestListener) {
  return request.agent(await served(app));
}

/**
 * The lower-case `Cache-Control` directive names of a header value, parsed here independently of the
 * middleware: comma-separated, a name before any `=`.
 */
function directiveNames(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const text = Array.isArray(value) ? value.join(',') : String(value);
  return text
    .split(',')
    .map((part) => (part.split('=', 1)[0] ?? '').trim().toLowerCase())
    .filter((name) => name !== '');
}

/** Whether a response as the client received it must never have been stored by a shared cache. */
export function mustNotBeStored(response: request.Response): boolean {
  if (setCookiesOf(response).length > 0) return true;
  const names = directiveNames(response.headers['cache-control']);
  return names.includes('private') || names.includes('no-store') || names.includes('no-cache');
}

/** A JSON padding long enough for `compression` (threshold 1 kB) to compress the body. */
export const PADDING = 'Cached or not, it must be mine. '.repeat(48);

/** An app the specs built, and how many times its handler ran. */
export interface CountedApp {
  app: Express;
  calls: () => number;
}

/** A browser (see {@link browser}) per login path, each logged in by a `POST` to its path, in order. */
export async function browsersLoggedInAt<const Paths extends readonly string[]>(
  app: RequestListener,
  ...loginPaths: Paths
): Promise<{ [K in keyof Paths]: Awaited<ReturnType<typeof browser>> }> {
  const browsers = [];
  for (const path of loginPaths) {
    const agent = await browser(app);
    await agent.post(path);
    browsers.push(agent);
  }
  return browsers as { [K in keyof Paths]: Awaited<ReturnType<typeof browser>> };
}

/** `[X-Cache, body[field], body.call]` of each response, to compare in one assertion. */
export function cacheFieldAndCall(responses: request.Response[], field: string): unknown[][] {
  return responses.map((response) => [
    response.headers['x-cache'],
    jsonOf(response)[field],
    jsonOf(response).call,
  ]);
}
