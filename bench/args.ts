/** What the scripts in bench/ share: their `--name value` options and how they pick a timing. */

/** The `--name value` pairs of the command line; a name the script does not know is an error. */
export function benchArgs(known: readonly string[]): Map<string, string> {
  const args = new Map<string, string>();
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    if (!known.includes(argv[i])) throw new Error(`unknown option ${argv[i]} (expected ${known.join(', ')})`);
    args.set(argv[i], argv[i + 1]);
  }
  return args;
}

/** The second fastest of repeated timings: on a shared machine the load only ever adds time. */
export function secondFastest(times: readonly number[]): number {
  return [...times].sort((a, b) => a - b)[Math.min(1, times.length - 1)];
}
