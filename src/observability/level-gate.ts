import winston, { type Logger } from 'winston';

/** What winston's own `isLevelEnabled` reads, as it was when the answers were remembered. */
interface LevelSettings {
  levels: Logger['levels'];
  level: string;
  /** `levels[level]`: a levels object may be changed in place. */
  levelValue: number | undefined;
  transports: unknown[];
  transportLevels: unknown[];
  transportLevelValues: (number | undefined)[];
}

/** A remembered answer, with the value the asked level had then. */
interface Answer {
  enabled: boolean;
  value: number | undefined;
}

/**
 * `logger.isLevelEnabled(level)`, remembered for as long as what winston's answer depends on stays the
 * same: the levels (and their values), the logger's level, its transports and their levels. The
 * cache asks on every request and lookup, at levels a production logger leaves off, and winston
 * answers by walking its transports with a fresh closure (about 650 bytes of garbage per question).
 * A change at run time (a level, a transport, `configure`) is seen at the next question. A logger
 * whose `isLevelEnabled` is not winston's own (overridden to decide per request, say) is asked every time.
 */
export class LevelGate {
  readonly #logger: Logger;
  /** winston's own method: only its answers depend on nothing but what {@link LevelSettings} holds. */
  readonly #winstonAnswer = winston.Logger.prototype.isLevelEnabled;
  readonly #answers = new Map<string, Answer>();
  #settings: LevelSettings | undefined;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  enabled(level: string): boolean {
    const logger = this.#logger;
    if (logger.isLevelEnabled !== this.#winstonAnswer) return logger.isLevelEnabled(level);
    if (!this.#unchanged()) {
      this.#answers.clear();
      this.#settings = this.#read();
      if (this.#settings === undefined) return logger.isLevelEnabled(level);
    }
    const value = logger.levels[level];
    const remembered = this.#answers.get(level);
    if (remembered !== undefined && remembered.value === value) return remembered.enabled;
    const enabled = logger.isLevelEnabled(level);
    this.#answers.set(level, { enabled, value });
    return enabled;
  }

  #unchanged(): boolean {
    const settings = this.#settings;
    if (settings === undefined) return false;
    const logger = this.#logger;
    const { levels, level } = logger;
    if (levels !== settings.levels || level !== settings.level || levels[level] !== settings.levelValue) {
      return false;
    }
    const transports = logger.transports as readonly { level?: unknown }[] | undefined;
    if (!Array.isArray(transports) || transports.length !== settings.transports.length) return false;
    for (let index = 0; index < transports.length; index++) {
      const transport = transports[index];
      const transportLevel = transport?.level;
      if (
        transport !== settings.transports[index] ||
        transportLevel !== settings.transportLevels[index] ||
        levelValueOf(levels, transportLevel) !== settings.transportLevelValues[index]
      ) {
        return false;
      }
    }
    return true;
  }

  #read(): LevelSettings | undefined {
    const logger = this.#logger;
    const { levels, level } = logger;
    const transports = logger.transports as readonly { level?: unknown }[] | undefined;
    // Not a winston logger as we know it: nothing to watch for, so every question goes to it.
    if (!Array.isArray(transports) || typeof levels !== 'object' || levels === null) return undefined;
    const transportLevels = transports.map((transport) => transport?.level);
    return {
      levels,
      level,
      levelValue: levels[level],
      transports: [...transports],
      transportLevels,
      transportLevelValues: transportLevels.map((transportLevel) => levelValueOf(levels, transportLevel)),
    };
  }
}

function levelValueOf(levels: Logger['levels'], level: unknown): number | undefined {
  return typeof level === 'string' ? levels[level] : undefined;
}
