import type { Request } from 'express';

/**
 * A setting of the app that handles `req`, as Express compiled it (`trust proxy fn`, `query parser fn`):
 * the key must read the request exactly as Express reads it for the handler. `undefined` outside Express.
 */
export function expressSetting(req: Request, name: string): unknown {
  return (req.app as { get?: (setting: string) => unknown } | undefined)?.get?.(name);
}
