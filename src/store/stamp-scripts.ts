import { RedisScript } from './redis-script.js';

// The scripts behind leases (see `StoreSetOptions.lease`). Each touches the keys of one Cluster slot
// only, which the Redis stores see to: a stamp shares the slot of what it stamps.

// Raises a stamp to this invalidation's number and keeps it STAMP_TTL_MS from now. Never lowers it:
// two invalidations may stamp out of order, and the later number must win.
const STAMP = `
local function stamp(key, generation, ttl)
  local current = tonumber(redis.call('GET', key) or '0')
  if tonumber(generation) > current then
    redis.call('SET', key, generation, 'PX', ttl)
  else
    redis.call('PEXPIRE', key, ttl, 'GT')
  end
end
`;

// Invalidations must get through a full Redis (`maxmemory` with `noeviction`): they free memory, and
// a refused invalidation would leave stale entries as hits.
const ALLOW_OOM = '#!lua flags=allow-oom\n';

// Adds the entry `member` to the `tags` index sets that follow the first `skip` KEYS, each living as
// long as its longest-lived entry (NX gives a new set a lifetime, GT stretches it), then writes the
// entry (KEYS[last], the last key of the write) when this slot holds it.
const INDEX_AND_WRITE = `
local function indexAndWrite(skip, tags, member, ttl, value, last)
  for i = skip + 1, skip + tags do
    redis.call('SADD', KEYS[i], member)
    redis.call('PEXPIRE', KEYS[i], ttl, 'NX')
    redis.call('PEXPIRE', KEYS[i], ttl, 'GT')
  end
  if last > skip + tags then redis.call('SET', KEYS[last], value, 'PX', ttl) end
end
`;

// Why a write under a lease must not land: 2 when the lease is older than its longest age, measured
// on the server's clock when the script runs; 1 when one of the first `checks` KEYS (stamps) is newer
// than the lease's count; 0 when it may.
const LEASE_REFUSAL = `
local function leaseRefusal(checks, since, startedAt, maxAge)
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  if now - tonumber(startedAt) > tonumber(maxAge) then return 2 end
  for i = 1, checks do
    local stamp = redis.call('GET', KEYS[i])
    if stamp and tonumber(stamp) > tonumber(since) then return 1 end
  end
  return 0
end
`;

/**
 * KEYS[1]: the counter. Takes the next invalidation count and replies it. The count is never below
 * the server's clock in microseconds (exact in a Lua number until the year 2255), so a counter lost with its Redis (a restart without persistence,
 * a failover to a replica that lagged, an eviction) comes back above every lease handed out before.
 */
export const NEXT_GENERATION_SCRIPT = new RedisScript(`${ALLOW_OOM}
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local next = tonumber(redis.call('GET', KEYS[1]) or '0') + 1
if now > next then next = now end
local text = string.format('%.0f', next)
redis.call('SET', KEYS[1], text)
return text
`);

/**
 * KEYS[1]: the counter. Replies {count, seconds, microseconds}: the lease and the server's clock.
 * Declared read-only, so that it runs on a replica and while writes are paused (`CLIENT PAUSE WRITE`
 * during a failover) instead of waiting the pause out.
 */
export const READ_LEASE_SCRIPT = new RedisScript(
  "#!lua flags=no-writes\nlocal time = redis.call('TIME') return {redis.call('GET', KEYS[1]) or '0', time[1], time[2]}",
);

/**
 * The lock of a load, the entry read once the lock is ours (as `LOCK_THEN_GET_SCRIPT`) and the load's
 * lease (as `READ_LEASE_SCRIPT`), in one call. KEYS: the lock, the entry, the counter, all in one slot.
 * ARGV: the lock's token, its lifetime (ms). Replies {1 when the lock was taken else 0, the entry
 * (nil when absent or not taken), count, seconds, microseconds}: the lease whatever became of the
 * lock. TIME comes after the write: a Redis that replicates scripts verbatim (before 5) refuses the
 * other order.
 */
export const LOCK_THEN_GET_WITH_LEASE_SCRIPT = new RedisScript(`
local acquired = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
local value = false
if acquired then value = redis.call('GET', KEYS[2]) end
local time = redis.call('TIME')
return {acquired and 1 or 0, value, redis.call('GET', KEYS[3]) or '0', time[1], time[2]}
`);

/**
 * A write under a lease. KEYS: the stamps to check, the tag index sets to add the entry to, then the
 * entry itself if this slot holds it. ARGV: stamps count, tags count, lease count, lease start (ms),
 * longest lease age (ms), entry lifetime (ms), entry key, value. Replies 0 (written), 1 (a stamp is
 * newer than the lease: invalidated since) or 2 (the lease is too old), writing nothing unless 0.
 * The age is measured on the server's clock when the script runs, so a write that waited in a queue
 * (a reconnecting client, a paused server) is judged by when it lands.
 */
export const GUARDED_WRITE_SCRIPT = new RedisScript(`${LEASE_REFUSAL}${INDEX_AND_WRITE}
local checks, tags = tonumber(ARGV[1]), tonumber(ARGV[2])
local refusal = leaseRefusal(checks, ARGV[3], ARGV[4], ARGV[5])
if refusal ~= 0 then return refusal end
indexAndWrite(checks, tags, ARGV[7], ARGV[6], ARGV[8], #KEYS)
return 0
`);

/**
 * The guarded write of a load, and the release of the load's stampede lock, in one call. KEYS: as the
 * guarded write (the entry included), then the lock, in the entry's slot. ARGV: as the guarded write,
 * then the lock's token. The lock is released (compare and delete) whatever the write's reply.
 */
export const GUARDED_WRITE_AND_RELEASE_SCRIPT = new RedisScript(`${LEASE_REFUSAL}${INDEX_AND_WRITE}
local checks, tags = tonumber(ARGV[1]), tonumber(ARGV[2])
local refusal = leaseRefusal(checks, ARGV[3], ARGV[4], ARGV[5])
if refusal == 0 then indexAndWrite(checks, tags, ARGV[7], ARGV[6], ARGV[8], #KEYS - 1) end
if redis.call('GET', KEYS[#KEYS]) == ARGV[9] then redis.call('DEL', KEYS[#KEYS]) end
return refusal
`);

/**
 * A stale entry renewed in place under a lease (RFC 9111 §4.3.4: a 304 freshens the stored response).
 * KEYS: the stamps to check, then the entry. ARGV: stamps count, lease count, lease start (ms),
 * longest lease age (ms), offset of the times, the times expected there, the new times, the entry's
 * new lifetime (ms), and optionally the whole new value (headers changed): written instead, on the
 * same condition. Replies as the guarded write, or 3 when the entry is not the one revalidated.
 */
export const RENEW_SCRIPT = new RedisScript(`${LEASE_REFUSAL}
local refusal = leaseRefusal(tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4])
if refusal ~= 0 then return refusal end
local entry = KEYS[#KEYS]
local offset = tonumber(ARGV[5])
if redis.call('GETRANGE', entry, offset, offset + #ARGV[6] - 1) ~= ARGV[6] then return 3 end
if ARGV[9] then
  redis.call('SET', entry, ARGV[9], 'PX', ARGV[8])
else
  redis.call('SETRANGE', entry, offset, ARGV[7])
  redis.call('PEXPIRE', entry, ARGV[8])
end
return 0
`);

/**
 * The application's own write (no lease), which voids the leases of loads under way. KEYS: the
 * stamps to raise, the tag index sets, then the entry if this slot holds it. ARGV: stamps count, tags
 * count, invalidation count, stamp lifetime (ms), entry lifetime (ms), entry key, value.
 */
export const STAMPED_WRITE_SCRIPT = new RedisScript(`${STAMP}${INDEX_AND_WRITE}
local stamps, tags = tonumber(ARGV[1]), tonumber(ARGV[2])
for i = 1, stamps do stamp(KEYS[i], ARGV[3], ARGV[4]) end
indexAndWrite(stamps, tags, ARGV[6], ARGV[5], ARGV[7], #KEYS)
return 0
`);

/**
 * An invalidation: raises the stamps, then unlinks the other keys. KEYS: the stamps, then the keys.
 * ARGV: stamps count, invalidation count, stamp lifetime (ms). Replies how many keys existed.
 */
export const STAMPED_DELETE_SCRIPT = new RedisScript(`${ALLOW_OOM}${STAMP}
local stamps = tonumber(ARGV[1])
for i = 1, stamps do stamp(KEYS[i], ARGV[2], ARGV[3]) end
if #KEYS == stamps then return 0 end
return redis.call('UNLINK', unpack(KEYS, stamps + 1))
`);

/**
 * `expire` as an invalidation. KEYS: the entry's stamp, the entry. ARGV: invalidation count, stamp
 * lifetime (ms), the entry's new lifetime (s). Replies 1 when the entry exists.
 */
export const STAMPED_EXPIRE_SCRIPT = new RedisScript(`${ALLOW_OOM}${STAMP}
stamp(KEYS[1], ARGV[1], ARGV[2])
return redis.call('EXPIRE', KEYS[2], ARGV[3])
`);

/**
 * Pattern stamps of many slots held by one Cluster master, in one call: ARGV is the invalidation count,
 * the stamp lifetime (ms), then the stamps. They are not declared as KEYS, which a Cluster confines to
 * one slot; a script flagged cross-slot (Redis 7) may touch any key of the node it runs on.
 */
export const STAMP_SLOTS_SCRIPT = new RedisScript(`#!lua flags=allow-oom,allow-cross-slot-keys
${STAMP}
for i = 3, #ARGV do stamp(ARGV[i], ARGV[1], ARGV[2]) end
return #ARGV - 2
`);
