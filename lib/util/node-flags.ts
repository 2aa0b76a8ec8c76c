/**
 * V8 flags the project's long-running processes (the command line, the notebook kernel) start
 * with.
 *
 * A training step promotes a few MB of short-lived objects (tensor handles, typed-array views) to
 * V8's old generation, and V8 sizes that generation from the ~50 MB that stay alive (mostly the
 * code and source maps of tfjs and this project): with its default limit it ran a full mark-compact
 * every one or two steps, each about 40 ms of marking on the main thread, some 14% of the main
 * thread's time in a `perf` profile of the supervised step. `--initial-old-space-size=256` raises
 * the limit V8 starts from and those it derives from it: in a 150-step SimCLR run, one full
 * collection after 30 s (heap 118 -> 51 MB) and none in the next 30 s. Measured on the
 * quick preset's steps, 2 cores, 3 alternating runs each (median of per-run means): SimCLR
 * 425 -> 374 ms, supervised 214 -> 186 ms. The cost is up to about 200 MB more memory.
 *
 * On a machine with few cores, V8's background garbage-collection threads compete with the
 * training threads (ONNX Runtime's, the filter gradient's helper) for the cores, and a kernel that
 * splits its work waits for its slowest thread: measured on the 2-core machines of this project
 * (3 alternating pairs of `bench --measure onnx` runs), `--single-threaded-gc` made the SimCLR
 * step 18% faster (median 542 -> 443 ms) and the supervised step 15% faster. With more cores the
 * collector's threads find idle ones, so the flags are left out. CIFAR_SSL_PARALLEL_GC=1 keeps
 * V8's defaults anywhere.
 */
import * as os from 'node:os';

/** Cores up to which the garbage collector runs on the main thread only. */
export const SINGLE_THREADED_GC_MAX_CORES = 4;

/** Old-generation size, MB, below which V8 collects no garbage for heap growth (see above). */
export const INITIAL_OLD_SPACE_MB = 256;

export function trainingNodeFlags(env: NodeJS.ProcessEnv = process.env, cores = availableCores()): string[] {
  const heap = [`--initial-old-space-size=${INITIAL_OLD_SPACE_MB}`];
  if (env.CIFAR_SSL_PARALLEL_GC !== undefined && env.CIFAR_SSL_PARALLEL_GC !== '' && env.CIFAR_SSL_PARALLEL_GC !== '0') return heap;
  return cores <= SINGLE_THREADED_GC_MAX_CORES ? ['--single-threaded-gc', ...heap] : heap;
}

/**
 * The flags of trainingNodeFlags that this process was not started with. A flag given with
 * another value (`--initial-old-space-size=1024`) counts as given: the user's value stands.
 */
export function missingNodeFlags(execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env, cores = availableCores()): string[] {
  const given = new Set(execArgv.map(flagName));
  return trainingNodeFlags(env, cores).filter((flag) => !given.has(flagName(flag)));
}

/** `--name` of `--name=value`, with V8's `_` and `-` treated alike. */
function flagName(flag: string): string {
  return flag.split('=')[0].replace(/_/g, '-');
}

export function availableCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}
