/** Why a request did not get the answer it should have. */
export type FailureCause =
  /** The app said the data source refused (the injected fault) and nothing cached could answer. */
  | 'data-source'
  /** The app failed for another reason (a 500 it labelled `app`). */
  | 'app'
  /** Another status than the route's normal ones, or a body without a version. */
  | 'unexpected-answer'
  /** No answer: connection refused or reset, or the request timed out. */
  | 'no-answer';

/** One GET as the driver saw it; times in ms on the run's clock. */
export interface GetRecord {
  product: number;
  instance: string;
  route: 'engine' | 'http';
  startMs: number;
  endMs: number;
  status: number;
  /** The version in the body of a 200. */
  version?: number;
  /** `X-Cache` of the answer (HIT, MISS, STALE, BYPASS). */
  cache?: string;
  failure?: FailureCause;
  /** For a GET the data source refused: whether the instance could not read Redis for it either. */
  redisReadFailed?: boolean;
  detail?: string;
}

/** One PUT as the driver saw it; it is acknowledged when the app's `invalidateTags` resolved. */
export interface PutRecord {
  product: number;
  instance: string;
  startMs: number;
  endMs: number;
  status: number;
  acknowledged: boolean;
  /** The version the data source wrote, when it wrote one. */
  version?: number;
  /**
   * `Date.now()` in the app just before it called `invalidateTags`, and just after that resolved:
   * wall-clock ms (not the run's clock), to compare with when the driver heard the announcement.
   */
  invalidationStartedAtMs?: number;
  acknowledgedAtMs?: number;
  failure?: FailureCause;
  detail?: string;
}

/** An invalidation announcement as the driver's own subscriber heard it. */
export interface HeardAnnouncement {
  /** `Date.now()` in the driver when the message arrived: wall-clock ms, as the apps' times are. */
  receivedAtMs: number;
  /** Id of the cache instance that published it. */
  origin: string;
  /** Full keys (prefix included) it tells the others to drop; `[]` when the tags named none. */
  keys?: string[];
  pattern?: string;
  tagged?: boolean;
}

/** A fault as it happened: from its first effect to the moment everything was restored. */
export interface FaultRecord {
  kind: 'redis-kill' | 'redis-pause' | 'data-source-failure';
  startMs: number;
  endMs: number;
}
