import { startOurs } from './ours.js';
import type { StartVariant } from './variant.js';

/** express-cache-aside with Redis only (no `memoryTier` option: no tier). */
export const startVariant: StartVariant = startOurs(undefined);
