/** The route name reported for every route past a middleware's bound (see {@link RouteNames}). */
export const OTHER_ROUTES = '<other>';

/**
 * The route names one `responseCache` middleware reports, in metric labels, logs and trace spans.
 * A name is `req.baseUrl` + the route's pattern, and `baseUrl` is the path a router matched, a mount
 * path's parameters included (`app.use('/tenants/:tenant', router)` gives `/tenants/acme/items/:id`):
 * the client chooses them. The first `limit` names are reported as they are; every later one as
 * {@link OTHER_ROUTES}, so that no client can grow the metrics (a series per name) without bound.
 */
export class RouteNames {
  readonly #known = new Set<string>();
  readonly #limit: number;
  readonly #onOverflow: (route: string, limit: number) => void;
  #overflowed = false;

  /** `onOverflow` hears of the first name past the bound, once. */
  constructor(limit: number, onOverflow: (route: string, limit: number) => void) {
    this.#limit = limit;
    this.#onOverflow = onOverflow;
  }

  /** The name to report for `route`. */
  nameOf(route: string): string {
    if (this.#known.has(route)) return route;
    if (this.#known.size < this.#limit) {
      this.#known.add(route);
      return route;
    }
    if (!this.#overflowed) {
      this.#overflowed = true;
      this.#onOverflow(route, this.#limit);
    }
    return OTHER_ROUTES;
  }
}
