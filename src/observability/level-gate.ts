import type { Logger } from 'winston';

/** What decides a winston logger's answer to `isLevelEnabled`: its levels, its level, its transports' levels. */
interface LevelSettings {
  levels: unknown;
  level: unknown;
  transports: unknown[];
  transportLevels: unknown[];
}

/**
 * `logger.isLevelEnabled(level)`, remembered for as long as what decides it stays the same. The cache
 * asks on every request and lookup, at levels a production logger leaves off, and winston answers
 * by walking its transports with a fresh closure (about 650 bytes of garbage per question). A level
 * changed at run time (on the logger or on a transport, or by `configure`) is seen at the next question.
 */
export class LevelGate {
  readonly #logger: Logger;
  readonly #answers = new Map<string, boolean>();
  #settings: LevelSettings | undefined;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  enabled(level: string): boolean {
    if (!this.#unchanged()) {
      this.#answers.clear();
      this.#settings = this.#read();
      // Not a winston logger as we know it: nothing to watch for, so every question goes to it.
      if (this.#settings === undefined) return this.#logger.isLevelEnabled(level);
    }
    let answer = this.#answers.get(level);
    if (answer === undefined) {
      answer = this.#logger.isLevelEnabled(level);
      this.#answers.set(level, answer);
    }
    return answer;
  }

  #unchanged(): boolean {
    const settings = this.#settings;
    if (settings === undefined) return false;
    const logger = this.#logger;
    if (logger.levels !== settings.levels || logger.level !== settings.level) return false;
    const transports = logger.transports as readonly { level?: unknown }[] | undefined;
    if (!Array.isArray(transports) || transports.length !== settings.transports.length) return false;
    for (let index = 0; index < transports.length; index++) {
      const transport = transports[index];
      if (transport !== settings.transports[index] || transport?.level !== settings.transportLevels[index]) {
        return false;
      }
    }
    return true;
  }

  #read(): LevelSettings | undefined {
    const logger = this.#logger;
    const transports = logger.transports as readonly { level?: unknown }[] | undefined;
    if (!Array.isArray(transports)) return undefined;
    return {
      levels: logger.levels,
      level: logger.level,
      transports: [...transports],
      transportLevels: transports.map((transport) => transport?.level),
    };
  }
}
