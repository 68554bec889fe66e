import type { Express } from 'express';

/** What the harness hands every variant. */
export interface VariantEnvironment {
  /** The benchmark's own redis-server, e.g. `redis://127.0.0.1:53124`. */
  redisUrl: string;
  /** Its port, for peers that take host and port. */
  redisPort: number;
}

/** A variant, ready to listen: its app and how to release what it opened. */
export interface VariantServer {
  app: Express;
  close(): Promise<void>;
}

/** Every `bench/variants/*.ts` file exports one of these as `startVariant`. */
export type StartVariant = (environment: VariantEnvironment) => Promise<VariantServer>;

/** Lifetime given to every cache entry, in seconds: longer than any run, so hits stay hits. */
export const ENTRY_TTL_SECONDS = 3600;
