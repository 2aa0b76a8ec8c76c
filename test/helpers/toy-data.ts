import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DataConfig } from '../../lib/config/types';
import { makeSplits } from '../../lib/data';
import type { CifarDataset, CifarSplit, StudySplits } from '../../lib/data';
import type { DataContext } from '../../lib/train/data-context';
import { Rng } from '../../lib/util/random';

/**
 * An in-memory learnable data set in the loaded CIFAR layout: class c of `classes` draws stripes of
 * one orientation and frequency, with a random phase, colour and noise, so a tiny network can learn
 * the classes and no single pixel gives them away.
 */
export function toySplit(perClass: number, classes: number, seed: number): CifarSplit {
  const rng = new Rng(seed);
  const count = perClass * classes;
  const images = new Uint8Array(count * 32 * 32 * 3);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % classes;
    labels[i] = label;
    const vertical = label % 2 === 0;
    const period = 4 + 2 * Math.floor(label / 2);
    const phase = rng.uniform(0, 2 * Math.PI);
    const colour = [rng.uniform(0.3, 1), rng.uniform(0.3, 1), rng.uniform(0.3, 1)];
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const t = vertical ? x : y;
        const wave = 0.5 + 0.5 * Math.sin((2 * Math.PI * t) / period + phase);
        for (let c = 0; c < 3; c++) {
          const value = 255 * (0.1 + 0.8 * wave * colour[c]) + 12 * rng.normal();
          images[((i * 32 + y) * 32 + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(value)));
        }
      }
    }
  }
  return { images, labels, count };
}

/** A DataContext over toy data, with split files written to a temporary folder. */
export function toyContext(options: { trainPerClass: number; testPerClass: number; classes?: number; validationPerClass: number; seed?: number }): DataContext & { config: DataConfig } {
  const classes = options.classes ?? 10;
  const dataset: CifarDataset = {
    train: toySplit(options.trainPerClass, classes, options.seed ?? 1),
    test: toySplit(options.testPerClass, classes, (options.seed ?? 1) + 1000),
    classNames: Array.from({ length: classes }, (_, c) => `class${c}`),
    fingerprint: `toy-${classes}-${options.trainPerClass}-${options.seed ?? 1}`,
  };
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cifar-ssl-toy-'));
  const config: DataConfig = { root, validationPerClass: options.validationPerClass, splitSeed: 0 };
  const splits = classes === 10 ? makeSplits(dataset, config, { splitsDir: path.join(root, 'splits') }) : simpleSplits(dataset, options.validationPerClass);
  return { dataset, splits, config };
}

/** Splits for toy sets with other than ten classes (the real split code checks for CIFAR's ten). */
function simpleSplits(dataset: CifarDataset, validationPerClass: number): StudySplits {
  const seen = new Map<number, number>();
  const validation: number[] = [];
  const pool: number[] = [];
  dataset.train.labels.forEach((label, i) => {
    const n = seen.get(label) ?? 0;
    seen.set(label, n + 1);
    (n < validationPerClass ? validation : pool).push(i);
  });
  const trainPool = Int32Array.from(pool);
  return {
    validation: Int32Array.from(validation),
    trainPool,
    test: Int32Array.from({ length: dataset.test.count }, (_, i) => i),
    labelled: (fraction, seed) => {
      const rows = new Rng(seed).shuffle(Int32Array.from(trainPool));
      return rows.subarray(0, Math.max(1, Math.round(fraction * rows.length))).sort();
    },
  };
}
