import { UsageError } from '../util/errors';

/** Throws a UsageError unless `value` is a positive integer; `name` is how the user set it. */
export function requirePositiveInteger(value: unknown, name: string): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new UsageError(`${name} must be a positive integer, got ${JSON.stringify(value)}; set it to 1 or more`);
  }
}
