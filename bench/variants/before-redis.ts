import { loadBeforeLibrary } from '../before-revision.js';
import { startOurs } from './ours.js';
import type { StartVariant } from './variant.js';

/** `ours-redis`, serving the `src/` of the `--before` revision. */
export const startVariant: StartVariant = startOurs(undefined, loadBeforeLibrary);
