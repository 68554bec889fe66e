import { CacheOptionError } from '../errors.js';
import { CACHE_MODES, type CacheEvents, type CacheMode } from '../events.js';
import { describeValue, unknownOptionMessage } from '../option-names.js';

/** Options of `cache.setMode`. */
export interface SetModeOptions {
  /**
   * Switch every instance of this cache (every cache with the same `prefix` on the same Redis), through
   * the pub/sub channel its invalidations take, not only this one. Default `false`.
   */
  everywhere?: boolean;
}

const SET_MODE_OPTION_NAMES: readonly string[] = ['everywhere'];

/** `mode` when it is a {@link CacheMode}; else a `CacheOptionError` naming the value. */
export function checkedMode(mode: unknown): CacheMode {
  if (!CACHE_MODES.includes(mode as CacheMode)) {
    const known = CACHE_MODES.map((name) => `'${name}'`).join(', ');
    throw new CacheOptionError(`setMode: \`mode\` must be one of ${known}, got ${describeValue(mode)}`);
  }
  return mode as CacheMode;
}

/** Whether `options` asks for every instance; a `CacheOptionError` for anything but `{ everywhere?: boolean }`. */
export function checkedEverywhere(options: unknown): boolean {
  if (options === undefined) return false;
  if (typeof options !== 'object' || options === null) {
    throw new CacheOptionError(`setMode: options must be an object, got ${describeValue(options)}`);
  }
  for (const name of Object.keys(options)) {
    if (!SET_MODE_OPTION_NAMES.includes(name)) {
      throw new CacheOptionError(`setMode: ${unknownOptionMessage(name, SET_MODE_OPTION_NAMES)}`);
    }
  }
  const { everywhere } = options as SetModeOptions;
  if (everywhere !== undefined && typeof everywhere !== 'boolean') {
    throw new CacheOptionError(`setMode: \`everywhere\` must be a boolean, got ${describeValue(everywhere)}`);
  }
  return everywhere === true;
}

/** The mode of one cache instance; every change is told as a `mode` event. Starts `on`. */
export class ModeSwitch {
  readonly #events: CacheEvents;
  #mode: CacheMode = 'on';

  constructor(events: CacheEvents) {
    this.#events = events;
  }

  get current(): CacheMode {
    return this.#mode;
  }

  /** Switches to `mode`; a switch to the mode already in force changes nothing and tells nothing. */
  apply(mode: CacheMode, fromAnotherInstance: boolean): void {
    const previous = this.#mode;
    if (mode === previous) return;
    this.#mode = mode;
    this.#events.emit('mode', { mode, previous, fromAnotherInstance });
  }
}
