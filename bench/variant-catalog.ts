/** What a variant is, for the harness and the report. */
export interface VariantSpec {
  /** File name in `bench/variants/` without `.ts`. */
  id: string;
  label: string;
  /**
   * `ceiling`, `baseline` and `floor` are bare Express; `peer`, `ours` and `before` are caches
   * (`before`: ours at an earlier revision, see `--before`).
   */
  role: 'ceiling' | 'baseline' | 'floor' | 'peer' | 'ours' | 'before';
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

/** Whether the variant is a cache (its hit runs should run no handler). */
export function isCache(spec: VariantSpec): boolean {
  return spec.role === 'peer' || spec.role === 'ours' || spec.role === 'before';
}

/** Each of our variants and its counterpart at the `--before` revision, by id. */
export const BEFORE_PAIRS = [
  { before: 'before-redis', after: 'ours-redis' },
  { before: 'before-memory', after: 'ours-memory' },
] as const;

/**
 * The catalog with our variants at revision `revision` beside ours (each right before its
 * counterpart, so that the two run back to back in every round).
 */
export function withBeforeVariants(revision: string): VariantSpec[] {
  return VARIANTS.flatMap((spec) => {
    const pair = BEFORE_PAIRS.find((candidate) => candidate.after === spec.id);
    if (pair === undefined) return [spec];
    const before: VariantSpec = {
      ...spec,
      id: pair.before,
      label: spec.label.replace('express-cache-aside,', `express-cache-aside at ${revision},`),
      role: 'before',
    };
    return [before, spec];
  });
}

/** The variant with `id` in `catalog`; throws for an unknown id. */
export function variantById(id: string, catalog: readonly VariantSpec[] = VARIANTS): VariantSpec {
  const spec = catalog.find((variant) => variant.id === id);
  if (spec !== undefined) return spec;
  const hint = BEFORE_PAIRS.some((pair) => pair.before === id) ? ' (it needs --before <git-rev>)' : '';
  throw new Error(`unknown variant '${id}'${hint}; known: ${catalog.map((v) => v.id).join(', ')}`);
}
