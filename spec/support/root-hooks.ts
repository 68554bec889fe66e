import { closeServed } from './served.js';

/** Mocha root hooks, loaded through `.mocharc.json`. */
export const mochaHooks = {
  async afterEach(): Promise<void> {
    await closeServed();
  },
};
