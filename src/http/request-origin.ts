import type { Request } from 'express';
import { expressSetting } from './express-setting.js';

/**
 * The scheme and authority of a request, exactly as the handler sees them: not lower-cased, since Express
 * gives `req.hostname` as the client wrote it, and a handler that echoes it must not share an entry
 * with a request that wrote it otherwise.
 */
export interface RequestOrigin {
  /** `req.protocol`: `http`, `https`, or a trusted proxy's `X-Forwarded-Proto`. */
  readonly scheme: string;
  /** The host with its port, as the request named it (empty when it named none). */
  readonly authority: string;
  /**
   * The `Host` header, when the authority came from a trusted `X-Forwarded-Host` and differs from it:
   * handlers build links from `req.get('host')` as often as from `req.hostname`.
   */
  readonly host?: string;
}

/** Express compiles its `trust proxy` setting into this predicate (both majors call it `trust proxy fn`). */
type TrustProxy = (address: string | undefined, hop: number) => boolean;

/**
 * The origin Express resolves for the handler: `req.protocol`, and the host that `req.hostname` comes
 * from, port included (what Express 5 calls `req.host`). Both follow the app's `trust proxy` setting,
 * so a forwarded host or scheme enters the key exactly when the handler would see it, and a forged one
 * from an untrusted client reaches neither.
 */
export function requestOrigin(req: Request): RequestOrigin {
  const host = req.headers.host ?? '';
  const forwarded = trustedForwardedHost(req);
  if (forwarded === undefined || forwarded === host) return { scheme: req.protocol, authority: host };
  return { scheme: req.protocol, authority: forwarded, host };
}

/** Express's own rule (Express 4 `req.hostname`, Express 5 `req.host`): the forwarded host, port kept, when trusted. */
function trustedForwardedHost(req: Request): string | undefined {
  const forwarded = req.headers['x-forwarded-host'];
  if (typeof forwarded !== 'string' || forwarded === '') return undefined;
  const trust = expressSetting(req, 'trust proxy fn');
  if (typeof trust !== 'function' || !(trust as TrustProxy)(req.socket?.remoteAddress, 0)) return undefined;
  const commaAt = forwarded.indexOf(',');
  return commaAt === -1 ? forwarded : forwarded.slice(0, commaAt).trimEnd();
}

/**
 * An origin given as text (`https://shop.example`, `https://shop.example:8443`): the scheme before
 * `://` and the authority after it, as written, without any path. `undefined` when it has no `://`.
 */
export function parseOrigin(origin: string): RequestOrigin | undefined {
  const separatorAt = origin.indexOf('://');
  if (separatorAt <= 0) return undefined;
  const rest = origin.slice(separatorAt + 3);
  const pathAt = rest.search(/[/?#]/);
  return {
    scheme: origin.slice(0, separatorAt),
    authority: pathAt === -1 ? rest : rest.slice(0, pathAt),
  };
}
