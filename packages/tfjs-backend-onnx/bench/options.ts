/** What the package's benchmarks share: positive integer options and how they pick a timing. */
import { parseArgs } from 'node:util';

/** `--name value` options as positive integers, with defaults; anything else is an error that names it. */
export function positiveIntOptions<K extends string>(defaults: Record<K, number>): Record<K, number> {
  const names = Object.keys(defaults) as K[];
  const { values } = parseArgs({ options: Object.fromEntries(names.map((name) => [name, { type: 'string' as const }])), strict: true });
  const parsed = { ...defaults };
  for (const name of names) {
    const text = (values as Record<string, string | undefined>)[name];
    if (text === undefined) continue;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${text}"`);
    parsed[name] = n;
  }
  return parsed;
}

/** The second fastest of repeated timings: on a shared machine the load only ever adds time. */
export function secondFastest(times: readonly number[]): number {
  return [...times].sort((a, b) => a - b)[Math.min(1, times.length - 1)];
}
