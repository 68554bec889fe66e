import type { NextFunction, Request, Response } from 'express';

/**
 * An Express middleware that fits any route. It is generic so that, placed before a handler, it
 * leaves the handler's `req.params` typed from the route path (`'/items/:id'` → `{ id: string }`);
 * a plain `RequestHandler` would widen them to every possible parameter.
 */
export type RouteMiddleware = <P>(req: Request<P>, res: Response, next: NextFunction) => void;
