import { startOurs } from './ours.js';
import type { StartVariant } from './variant.js';

/** express-cache-aside with Redis only. */
export const startVariant: StartVariant = startOurs(false);
