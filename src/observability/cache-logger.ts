// TEMPORARY: replaced by the observability work (issue 5).
import winston, { type Logger } from 'winston';
import type { CacheEvents } from '../events.js';

export function createDefaultLogger(level: string): Logger {
  return winston.createLogger({ level, transports: [new winston.transports.Console()] });
}

export function attachCacheLogger(_events: CacheEvents, _logger: Logger, _cacheName: string): void {}
