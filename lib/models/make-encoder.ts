import type { EncoderConfig } from '../config/types';
import { UsageError } from '../util/errors';
import type { Rng } from '../util/random';
import { makeBasicCnnEncoder } from './basic-cnn';
import { makeResNetEncoder } from './resnet';
import type { Encoder } from './types';
import { requirePositiveInteger } from './validate';

/** Builds the encoder an `EncoderConfig` describes, after checking it; weights are drawn from `rng`. */
export function makeEncoder(config: EncoderConfig, rng: Rng): Encoder {
  requirePositiveInteger(config.width, 'encoder width');
  switch (config.kind) {
    case 'resnet':
      if (!Array.isArray(config.blocksPerStage) || config.blocksPerStage.length === 0) {
        throw new UsageError('a resnet encoder needs at least one stage; set blocksPerStage, e.g. [2, 2, 2, 2]');
      }
      config.blocksPerStage.forEach((count, s) => requirePositiveInteger(count, `blocksPerStage[${s}]`));
      return makeResNetEncoder(config, rng);
    case 'basic-cnn':
      return makeBasicCnnEncoder(config, rng);
    default:
      throw new UsageError(
        `unknown encoder kind ${JSON.stringify((config as { kind: unknown }).kind)}; use "resnet" or "basic-cnn"`,
      );
  }
}
