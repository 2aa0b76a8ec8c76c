/**
 * V8 flags the project's long-running processes (the command line, the notebook kernel) start
 * with. On a machine with few cores, V8's background garbage-collection threads compete with the
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

export function trainingNodeFlags(env: NodeJS.ProcessEnv = process.env, cores = availableCores()): string[] {
  if (env.CIFAR_SSL_PARALLEL_GC !== undefined && env.CIFAR_SSL_PARALLEL_GC !== '' && env.CIFAR_SSL_PARALLEL_GC !== '0') return [];
  return cores <= SINGLE_THREADED_GC_MAX_CORES ? ['--single-threaded-gc'] : [];
}

/** The flags of trainingNodeFlags that this process was not started with. */
export function missingNodeFlags(execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env, cores = availableCores()): string[] {
  return trainingNodeFlags(env, cores).filter((flag) => !execArgv.includes(flag));
}

export function availableCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}
