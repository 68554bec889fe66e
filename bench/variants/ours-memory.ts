import { startOurs } from './ours.js';
import type { StartVariant } from './variant.js';

/**
 * express-cache-aside with the in-process tier in front of Redis, at its defaults (10,000 entries,
 * 64 MiB, 1 s in memory before Redis is asked again).
 */
export const startVariant: StartVariant = startOurs({});
