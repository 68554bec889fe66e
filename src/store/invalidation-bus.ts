import { CACHE_MODES, type CacheMode } from '../events.js';

/** An invalidation announced to every instance, so each drops its in-process copies. */
export interface InvalidationMessage {
  /** Id of the instance that sent it (which has already applied it). */
  origin: string;
  /** Full keys to drop. */
  keys?: string[];
  /** Redis glob over full keys to drop. */
  pattern?: string;
  /**
   * The keys were those of invalidated tags: a load under way of any other key may produce a value
   * with those tags too, so no load under way may be shared from now on.
   */
  tagged?: boolean;
  /**
   * The keys name one key in every version of the cache (`createCache({ version })`): each instance
   * drops its own version's copy of them.
   */
  allVersions?: boolean;
}

/**
 * A mode switch announced to every instance (`setMode(mode, { everywhere: true })`). It carries no keys
 * and no pattern, so instances of a version before mode switches ignore it.
 */
interface ModeMessage {
  /** Id of the instance that sent it. */
  origin: string;
  mode: CacheMode;
}

/** What travels between the instances of one cache. */
export type BusMessage = InvalidationMessage | ModeMessage;

/** Carries invalidations and mode switches between the instances of one cache (Redis pub/sub in production). */
export interface InvalidationBus {
  publish(message: BusMessage): Promise<void>;
  /**
   * Starts delivering messages from every instance (this one's included) to `handler`. `onGap` is
   * called when the subscription broke or came back after a break: messages sent in between were
   * lost to this instance (pub/sub delivers at most once).
   */
  subscribe(handler: (message: BusMessage) => void, onGap?: () => void): Promise<void>;
  close(): Promise<void>;
}

/** Parses a message off the wire; `undefined` for anything that is not one. */
export function parseInvalidationMessage(text: string): BusMessage | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { origin, keys, pattern, tagged, allVersions, mode } = parsed as Record<string, unknown>;
  if (typeof origin !== 'string') return undefined;
  if (mode !== undefined) {
    // A mode this version does not know (from a newer one) is left alone rather than guessed at.
    return CACHE_MODES.includes(mode as CacheMode) ? { origin, mode: mode as CacheMode } : undefined;
  }
  const validKeys = Array.isArray(keys) && keys.every((key) => typeof key === 'string') ? keys : undefined;
  const validPattern = typeof pattern === 'string' ? pattern : undefined;
  if (validKeys === undefined && validPattern === undefined) return undefined;
  return {
    origin,
    ...(validKeys !== undefined ? { keys: validKeys } : {}),
    ...(validPattern !== undefined ? { pattern: validPattern } : {}),
    ...(tagged === true ? { tagged } : {}),
    ...(allVersions === true ? { allVersions } : {}),
  };
}
