/** What a variant is, for the harness and the report. */
export interface VariantSpec {
  /** File name in `bench/variants/` without `.ts`. */
  id: string;
  label: string;
  /** `ceiling`, `baseline` and `floor` are bare Express; `peer` and `ours` are caches. */
  role: 'ceiling' | 'baseline' | 'floor' | 'peer' | 'ours';
  /** Where the cached responses live. */
  store: 'none' | 'memory' | 'redis';
  /** Whether the miss path is measured (every cache, and the floor it is compared with). */
  measureMiss: boolean;
}

/** Every variant, in the order of a round and of the report. */
export const VARIANTS: readonly VariantSpec[] = [
  {
    id: 'express-buffer',
    label: 'Express, pre-serialized Buffer (ceiling)',
    role: 'ceiling',
    store: 'none',
    measureMiss: false,
  },
  {
    id: 'express-json',
    label: 'Express, JSON built per request, no delay',
    role: 'baseline',
    store: 'none',
    measureMiss: false,
  },
  {
    id: 'express-slow',
    label: 'Express, 20 ms handler, no cache (floor)',
    role: 'floor',
    store: 'none',
    measureMiss: true,
  },
  { id: 'apicache-memory', label: 'apicache 1.6, memory', role: 'peer', store: 'memory', measureMiss: true },
  {
    id: 'apicache-redis',
    label: 'apicache 1.6, Redis (node-redis v6 `.legacy()` + shim)',
    role: 'peer',
    store: 'redis',
    measureMiss: true,
  },
  {
    id: 'express-redis-cache',
    label: 'express-redis-cache 1.1, Redis',
    role: 'peer',
    store: 'redis',
    measureMiss: true,
  },
  {
    id: 'tutorial',
    label: 'hand-written tutorial middleware, Redis',
    role: 'peer',
    store: 'redis',
    measureMiss: true,
  },
  {
    id: 'ours-redis',
    label: 'express-cache-aside, Redis only',
    role: 'ours',
    store: 'redis',
    measureMiss: true,
  },
  {
    id: 'ours-memory',
    label: 'express-cache-aside, in-process tier + Redis',
    role: 'ours',
    store: 'memory',
    measureMiss: true,
  },
];

/** The variant with `id`; throws for an unknown id. */
export function variantById(id: string): VariantSpec {
  const spec = VARIANTS.find((variant) => variant.id === id);
  if (spec === undefined)
    throw new Error(`unknown variant '${id}'; known: ${VARIANTS.map((v) => v.id).join(', ')}`);
  return spec;
}
