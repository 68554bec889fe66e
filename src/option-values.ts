import { CacheOptionError } from './errors.js';
import { describeValue } from './option-names.js';

/**
 * Validates a number greater than 0: `fallback` when `value` is `undefined`, else `value`, or a
 * `CacheOptionError` naming `name` (and the unit its name says, e.g. `…Ms`) for anything else.
 */
export function positiveNumber(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new CacheOptionError(
      `\`${name}\` must be a positive number${unitOf(name)}, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** Like {@link positiveNumber}, for a number that may be zero. */
export function nonNegativeNumber(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new CacheOptionError(
      `\`${name}\` must be a number${unitOf(name)} of at least 0, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** Validates a fraction from 0 (included) to 1 (excluded); 0 when absent. */
export function fraction(value: unknown, name: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value >= 1) {
    throw new CacheOptionError(
      `\`${name}\` must be a fraction from 0 to below 1 (0.1 for 10 %), got ${describeValue(value)}`,
    );
  }
  return value;
}

/** The unit an option's name says it is in, for error messages. */
function unitOf(name: string): string {
  if (name.endsWith('Ms')) return ' of milliseconds';
  if (name.endsWith('Bytes')) return ' of bytes';
  if (/(^|\.)(ttl|staleTtl|seconds)$/.test(name)) return ' of seconds';
  return '';
}

/** Validates a whole number greater than 0. */
export function positiveInteger(value: unknown, name: string, fallback: number): number {
  const number = positiveNumber(value, name, fallback);
  if (!Number.isInteger(number))
    throw new CacheOptionError(`\`${name}\` must be a whole number, got ${number}`);
  return number;
}

/** Validates a whole number that may be zero. */
export function nonNegativeInteger(value: unknown, name: string, fallback: number): number {
  const number = nonNegativeNumber(value, name, fallback);
  if (!Number.isInteger(number))
    throw new CacheOptionError(`\`${name}\` must be a whole number, got ${number}`);
  return number;
}

/** Validates an optional non-empty string; `undefined` when absent. */
export function nonEmptyString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    throw new CacheOptionError(`\`${name}\` must be a non-empty string`);
  }
  return value;
}
