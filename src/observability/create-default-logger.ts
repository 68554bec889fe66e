import winston, { type Logger } from 'winston';

/**
 * The logger a cache uses when none is given: JSON lines with a timestamp on the console, at
 * `level` (`createCache`'s `logLevel`, default `'warn'`, so a healthy cache says nothing).
 */
export function createDefaultLogger(level: string): Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    defaultMeta: { component: 'express-cache-aside' },
    transports: [new winston.transports.Console()],
  });
}
