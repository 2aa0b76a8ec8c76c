/**
 * Which images each pretraining epoch visits, and in what order. The order depends only on the
 * seed and the epoch number, so a resumed run visits exactly what the uninterrupted run would.
 */
import type { EpochSamplingConfig } from '../config/types';
import { UsageError } from '../util/errors';
import { Rng, mixSeed } from '../util/random';

export const SAMPLING_MODES: Array<EpochSamplingConfig['mode']> = ['all', 'fixed-subset', 'fresh-subset', 'all-chunked'];

// Stream tags keep the run's fixed subset independent of the per-epoch orders.
const FIXED_SUBSET_STREAM = 1;
const EPOCH_STREAM = 2;

export class EpochSampler {
  /** what an epoch draws from: the pool, or for 'fixed-subset' the subset drawn once for the run */
  private readonly candidates: Int32Array;
  private readonly seed: number;
  /** images per epoch */
  readonly epochSize: number;

  /**
   * `pool`: image indices to draw from; `config.mode` is 'all' (the whole pool), 'fixed-subset'
   * (one random `fraction` of it for the whole run), 'fresh-subset' (a new random `fraction`
   * every epoch) or 'all-chunked' (each epoch the next `fraction` of plain passes over the whole
   * pool: E such epochs are f x E ordinary epochs, in as many steps as the subset modes take).
   */
  private readonly chunked: boolean;

  constructor(pool: Int32Array, config: EpochSamplingConfig, seed: number) {
    if (!SAMPLING_MODES.includes(config.mode)) {
      throw new UsageError(`sampling mode "${config.mode}" is unknown: use ${SAMPLING_MODES.join(', ')}`);
    }
    if (config.mode !== 'all' && !(config.fraction > 0 && config.fraction <= 1)) {
      throw new UsageError(`sampling fraction ${config.fraction} is not in (0, 1]: give e.g. 0.5 for half the pool per epoch`);
    }
    if (pool.length === 0) throw new UsageError('the sampling pool is empty: check the data split settings');
    this.seed = seed;
    this.chunked = config.mode === 'all-chunked';
    this.epochSize = config.mode === 'all' ? pool.length : Math.max(1, Math.round(config.fraction * pool.length));
    this.candidates = config.mode === 'fixed-subset'
      ? new Rng(mixSeed(seed, FIXED_SUBSET_STREAM)).shuffle(pool.slice()).slice(0, this.epochSize)
      : pool.slice();
  }

  /**
   * The image indices of `epoch` (0- or 1-based, as the caller counts; 'all-chunked' counts from 1),
   * in visiting order.
   */
  indicesForEpoch(epoch: number): Int32Array {
    if (this.chunked) return this.chunkOfPasses(epoch);
    // 'fresh-subset' takes the prefix of this epoch's shuffle of the whole pool; the others all of it
    const order = new Rng(mixSeed(this.seed, EPOCH_STREAM, epoch)).shuffle(this.candidates.slice());
    return order.slice(0, this.epochSize);
  }

  /** 'all-chunked': epoch e takes images (e - 1) * size ... e * size - 1 of back-to-back reshuffled passes over the pool. */
  private chunkOfPasses(epoch: number): Int32Array {
    const n = this.candidates.length;
    const out = new Int32Array(this.epochSize);
    let offset = (epoch - 1) * this.epochSize;
    let filled = 0;
    while (filled < this.epochSize) {
      const pass = Math.floor(offset / n);
      const order = new Rng(mixSeed(this.seed, EPOCH_STREAM, pass)).shuffle(this.candidates.slice());
      const from = offset - pass * n;
      const take = Math.min(n - from, this.epochSize - filled);
      out.set(order.subarray(from, from + take), filled);
      filled += take;
      offset += take;
    }
    return out;
  }
}
