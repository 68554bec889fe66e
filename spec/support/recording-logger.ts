import { Writable } from 'node:stream';
import winston, { type Logger } from 'winston';

/** One log entry as the transport received it: level, message and the structured fields. */
export interface RecordedEntry {
  level: string;
  message: string;
  [field: string]: unknown;
}

/**
 * A real winston logger whose entries land in memory instead of on the console, so specs assert on
 * what a user's transport would receive. Entries below `level` are dropped by winston, as in
 * production.
 */
export class RecordingLogger {
  readonly logger: Logger;
  readonly entries: RecordedEntry[] = [];

  constructor(level = 'silly') {
    const sink = new Writable({
      objectMode: true,
      write: (info: RecordedEntry, _encoding, done) => {
        // Only the string keys: winston's symbol keys (level, message, splat) are transport plumbing.
        this.entries.push(Object.fromEntries(Object.entries(info)) as RecordedEntry);
        done();
      },
    });
    this.logger = winston.createLogger({
      level,
      transports: [new winston.transports.Stream({ stream: sink })],
    });
  }

  /** The entries at exactly `level`. */
  at(level: string): RecordedEntry[] {
    return this.entries.filter((entry) => entry.level === level);
  }

  /** The entries whose message is `message`. */
  withMessage(message: string): RecordedEntry[] {
    return this.entries.filter((entry) => entry.message === message);
  }

  /** Forgets what was recorded so far. */
  clear(): void {
    this.entries.length = 0;
  }
}
