import {
  type HeapFootprint,
  MEMORY_BAR,
  type MemoryFootprint,
  type RedisFootprint,
  type RedisKeyKind,
  redisBytesPerEntry,
} from './memory-footprint.js';

/** The "Memory per entry" section of RESULTS.md. */
export function memorySection(memory: MemoryFootprint | undefined): string[] {
  if (memory === undefined) return [];
  return [
    '## Memory per entry',
    '',
    `The issue's bar: an entry takes at most ${MEMORY_BAR} × its payload (the response body), in Redis and in the in-process tier. Measured after the rounds, each in a fresh process, over the same redis-server (flushed first); the responses are the fixture's 2 KiB JSON bodies, through HTTP, as the variants store them.`,
    '',
    ...(typeof memory.redis === 'string'
      ? ['### Redis', '', `Not measured: ${memory.redis}`, '']
      : redisSection(memory.redis)),
    ...(typeof memory.heap === 'string'
      ? ['### In-process tier', '', `Not measured: ${memory.heap}`, '']
      : heapSection(memory.heap)),
  ];
}

function redisSection(redis: RedisFootprint): string[] {
  const perEntry = redisBytesPerEntry(redis);
  const kinds = [...redis.kinds].sort((a, b) => b.bytes - a.bytes);
  const perEntryKinds = kinds.filter((kind) => kind.count >= redis.entries);
  const counted = perEntryKinds.reduce((sum, kind) => sum + kind.bytes / redis.storedEntries, 0);
  const value = redis.sampleEntryValueBytes;
  return [
    '### Redis',
    '',
    `${redis.entries.toLocaleString('en')} entries stored through express-cache-aside (Redis only, as \`ours-redis\`), each response with one tag of its own (route option \`tags\`), after ${(redis.storedEntries - redis.entries).toLocaleString('en')} unmeasured ones; redis-server ${redis.redisVersion}, \`used_memory\` less the clients’ buffers (\`mem_clients_normal\`) of \`INFO memory\`, before and after.`,
    '',
    '| Per entry | Bytes | × payload |',
    '| --- | ---: | ---: |',
    `| \`used_memory\` (less clients' buffers) grown ÷ entries | ${whole(perEntry)} | ${times(perEntry / redis.payloadBytes)} |`,
    ...perEntryKinds.map(
      (kind) =>
        `| \`MEMORY USAGE\` of ${kindName(kind)} (\`${kind.kind}\`, mean) | ${whole(kind.bytes / kind.count)} | ${times(kind.bytes / kind.count / redis.payloadBytes)} |`,
    ),
    `| not in \`MEMORY USAGE\` (expiry table entries, keyspace tables' growth) | ${whole(perEntry - counted)} | ${times((perEntry - counted) / redis.payloadBytes)} |`,
    `| payload: the body | ${whole(redis.payloadBytes)} | 1.00 |`,
    '',
    'Every kind of key in Redis after the fill (digit runs shown as `#`):',
    '',
    '| Key kind | Type | Keys | Mean `MEMORY USAGE` | Sample key | Its `MEMORY USAGE` | Expires |',
    '| --- | --- | ---: | ---: | --- | ---: | --- |',
    ...kinds.map(
      (kind) =>
        `| \`${kind.kind}\` | ${kind.type}${kind.sampleMembers === undefined ? '' : ` (${kind.sampleMembers} member${kind.sampleMembers === 1 ? '' : 's'})`} | ${kind.count} | ${whole(kind.bytes / kind.count)} | \`${kind.sampleKey}\` | ${whole(kind.sampleBytes)} | ${kind.expires ? 'yes' : 'no'} |`,
    ),
    '',
    `The sample entry's value is ${whole(value)} bytes (\`STRLEN\`) for a ${whole(redis.sampleEntryBodyBytes)}-byte body: ${whole(value - redis.sampleEntryBodyBytes)} bytes of status, headers, ETag, route, times and format. \`MEMORY USAGE\` counts what the allocator hands out, rounded up to its size classes, plus the key and its table entry.`,
    '',
  ];
}

function heapSection(heap: HeapFootprint): string[] {
  const per = (bytes: number) => bytes / heap.entries;
  const row = (what: string, bytes: number) =>
    `| ${what} | ${whole(per(bytes))} | ${times(per(bytes) / heap.payloadBytes)} |`;
  return [
    '### In-process tier',
    '',
    `${heap.entries.toLocaleString('en')} distinct responses held by the tier (\`memoryTier\` sized for them, as \`ours-memory\` otherwise), in a process started with \`--expose-gc\`: \`process.memoryUsage()\` after two full collections, before and after the fill. The tier gained ${heap.tierEntries.toLocaleString('en')} entries.`,
    '',
    '| Per entry | Bytes | × payload |',
    '| --- | ---: | ---: |',
    row('V8 heap and Buffers (`heapUsed` + `arrayBuffers`)', heap.heapUsedDelta + heap.arrayBuffersDelta),
    row('V8 heap (`heapUsed`: objects, strings, the tier’s tables)', heap.heapUsedDelta),
    row('Buffers’ memory (`arrayBuffers`)', heap.arrayBuffersDelta),
    row('`external` (includes `arrayBuffers`)', heap.externalDelta),
    row('what the tier counts against `maxBytes` (`stats().memoryBytes`)', heap.tierCountedBytes),
    `| payload: the body | ${whole(heap.payloadBytes)} | 1.00 |`,
    '',
    `Resident set size grew by ${whole(per(heap.rssDelta))} bytes per entry (the heap's free space included).`,
    '',
  ];
}

function kindName(kind: RedisKeyKind): string {
  if (kind.kind.includes(':__ca:tag:')) return `its tag's index (a ${kind.type})`;
  return kind.type === 'string' ? 'the entry (key and value)' : `a ${kind.type} key`;
}

function whole(value: number): string {
  return Math.round(value).toLocaleString('en');
}

function times(value: number): string {
  return value.toFixed(2);
}
