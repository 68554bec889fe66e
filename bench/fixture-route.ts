import type { RequestHandler } from 'express';

/** How many distinct URLs every variant serves: `/items/0` … `/items/99`. */
export const ITEM_COUNT = 100;

/** The Express route pattern every variant mounts. */
export const ITEM_ROUTE = '/items/:id';

/** How long the slow handler waits before answering, in milliseconds (a database call, say). */
const HANDLER_DELAY_MS = 20;

/**
 * Query parameter that makes the slow handler answer at once: the CPU-bound miss run puts it in
 * every URL, so that the handler costs only its CPU (build and send the JSON) and the run measures
 * what each cache adds to a miss in CPU, with no timer to hide it behind.
 */
export const ANSWER_AT_ONCE = 'now=1';
const ANSWER_AT_ONCE_PATTERN = new RegExp(`[?&]${ANSWER_AT_ONCE}(?:&|$)`);

/** One item of the fixture: about 2 KB once serialized, the same bytes for a given id in every process. */
interface Item {
  id: number;
  sku: string;
  name: string;
  description: string;
  priceCents: number;
  currency: string;
  inStock: boolean;
  tags: string[];
  dimensions: { widthMm: number; heightMm: number; depthMm: number; weightGrams: number };
  reviews: { author: string; rating: number; title: string; body: string }[];
  updatedAt: string;
}

const WORDS = [
  'amber',
  'basalt',
  'cedar',
  'delta',
  'ember',
  'fjord',
  'granite',
  'harbor',
  'indigo',
  'juniper',
  'kelp',
  'lumen',
  'meadow',
  'nickel',
  'onyx',
  'prairie',
  'quartz',
  'russet',
  'sierra',
  'tundra',
];

function words(seed: number, count: number): string {
  const picked: string[] = [];
  for (let index = 0; index < count; index++)
    picked.push(WORDS[(seed * 7 + index * 13) % WORDS.length] ?? '');
  return picked.join(' ');
}

/** Builds item `id` (0 ≤ id < ITEM_COUNT); deterministic, so every variant serves the same bytes. */
function buildItem(id: number): Item {
  return {
    id,
    sku: `SKU-${String(id).padStart(6, '0')}`,
    name: `Item ${id}: ${words(id, 3)}`,
    description: words(id + 1, 40),
    priceCents: 1000 + ((id * 7919) % 90_000),
    currency: 'EUR',
    inStock: id % 3 !== 0,
    tags: [words(id, 1), words(id + 2, 1), words(id + 5, 1), `batch-${id % 10}`],
    dimensions: {
      widthMm: 100 + id,
      heightMm: 50 + (id % 17),
      depthMm: 20 + (id % 5),
      weightGrams: 250 + id * 3,
    },
    reviews: [0, 1, 2, 3, 4, 5].map((index) => ({
      author: `user-${(id * 31 + index) % 1000}`,
      rating: 1 + ((id + index) % 5),
      title: words(id + index, 4),
      body: words(id * 3 + index, 24),
    })),
    updatedAt: new Date(Date.UTC(2024, 0, 1) + id * 86_400_000).toISOString(),
  };
}

/** The path of item `id`. */
export function itemPath(id: number): string {
  return `/items/${id}`;
}

const serialized: Buffer[] = Array.from({ length: ITEM_COUNT }, (_, id) =>
  Buffer.from(JSON.stringify(buildItem(id)), 'utf8'),
);

/** The exact body of item `id`, as `res.json(buildItem(id))` sends it. */
export function itemBody(id: number): Buffer {
  const body = serialized[id];
  if (body === undefined) throw new RangeError(`no fixture item ${id}`);
  return body;
}

/** Average body size of the fixture, in bytes. */
export function averageBodyBytes(): number {
  return Math.round(serialized.reduce((sum, body) => sum + body.length, 0) / serialized.length);
}

let handlerRuns = 0;

/** How many times a handler of this process built a response (a cache hit builds none). */
export function handlerRunCount(): number {
  return handlerRuns;
}

function parseId(raw: unknown): number | undefined {
  const id = Number(raw);
  return Number.isInteger(id) && id >= 0 && id < ITEM_COUNT ? id : undefined;
}

/** The ceiling: what Express itself serves from memory, a pre-serialized Buffer per URL. */
export const preSerializedHandler: RequestHandler = (req, res) => {
  const id = parseId(req.params.id);
  if (id === undefined) {
    res.sendStatus(404);
    return;
  }
  handlerRuns++;
  res.type('application/json').send(itemBody(id));
};

/** Builds the JSON on every request, with no delay. */
export const immediateHandler: RequestHandler = (req, res) => {
  const id = parseId(req.params.id);
  if (id === undefined) {
    res.sendStatus(404);
    return;
  }
  handlerRuns++;
  res.json(buildItem(id));
};

/**
 * The handler every cache sits in front of: waits {@link HANDLER_DELAY_MS}, then builds the JSON;
 * answers at once when the URL carries {@link ANSWER_AT_ONCE}.
 */
export const slowHandler: RequestHandler = (req, res) => {
  const id = parseId(req.params.id);
  if (id === undefined) {
    res.sendStatus(404);
    return;
  }
  handlerRuns++;
  // A regular expression on the raw URL: `req.query` would parse the query string again.
  if (ANSWER_AT_ONCE_PATTERN.test(req.originalUrl)) res.json(buildItem(id));
  else setTimeout(() => res.json(buildItem(id)), HANDLER_DELAY_MS);
};
