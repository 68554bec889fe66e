/** Replies of the Redis commands the store uses, after Buffer type mapping where it asks for it. */
type Reply<T> = Promise<T>;

/**
 * The commands the Redis store needs from a node-redis client. A `createClient()` or
 * `createCluster()` client satisfies it as it is; unit specs satisfy it with sinon stubs.
 */
export interface RedisClientLike {
  withTypeMapping(mapping: object): RedisClientLike;
  /** node-redis: a view of the client with other command options (absent on stubs). */
  withCommandOptions?(options: object): RedisClientLike;
  get(key: string): Reply<Buffer | string | null>;
  mGet(keys: string[]): Reply<(Buffer | string | null)[]>;
  set(key: string, value: Buffer, options: object): Reply<unknown>;
  sAdd(key: string, members: string[]): Reply<number>;
  sPopCount(key: string, count: number): Reply<unknown[]>;
  sScan(
    key: string,
    cursor: string,
    options: { COUNT: number },
  ): Reply<{ cursor: string; members: unknown[] }>;
  sIsMember(key: string, member: string): Reply<number>;
  pExpire(key: string, milliseconds: number, mode?: 'NX' | 'XX' | 'GT' | 'LT'): Reply<number>;
  unlink(keys: string[]): Reply<number>;
  scan(
    cursor: string,
    options: { MATCH: string; COUNT: number; TYPE?: string },
  ): Reply<{ cursor: string; keys: unknown[] }>;
  ttl(key: string): Reply<number>;
  expire(key: string, seconds: number): Reply<number>;
  eval(script: string, options: { keys: string[]; arguments: (string | Buffer)[] }): Reply<unknown>;
  evalSha(sha1: string, options: { keys: string[]; arguments: (string | Buffer)[] }): Reply<unknown>;
}

/**
 * A view of `client` without node-redis's own per-command timeout (5 s by default, an AbortSignal
 * and a timer per command: about a tenth of a hit's CPU). The cache bounds every call itself with
 * `redisTimeoutMs`, so the second timer only costs. Clients without the method are returned as they are.
 */
export function withoutClientTimeout<C extends RedisClientLike>(client: C): C {
  return typeof client.withCommandOptions === 'function'
    ? (client.withCommandOptions({ timeout: 0 }) as C)
    : client;
}

/** True when `value` has the node-redis methods the store calls. */
export function isRedisClientLike(value: unknown): value is RedisClientLike {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return ['withTypeMapping', 'get', 'mGet', 'set', 'unlink', 'scan'].every(
    (method) => typeof candidate[method] === 'function',
  );
}
