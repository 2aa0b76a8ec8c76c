import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { Module } from '../models/types';
import { writeJsonAtomic } from '../util/atomic-write';
import { UsageError } from '../util/errors';

/** A linear probe's classifier on raw (unstandardised) features: logits = h kernel + bias. */
export interface ProbeHead {
  inputDim: number;
  numClasses: number;
  /** [inputDim * numClasses], row-major as the dense kernel [inputDim, numClasses] */
  kernel: number[];
  bias: number[];
}

/**
 * Folds the probe's feature standardisation into its classifier, so the head applies to the raw
 * features an encoder emits: ((h - mean) * scale) W + b = h (diag(scale) W) + (b - (mean * scale) W).
 * LP-FT starts fine-tuning from this head.
 */
export function foldStandardisation(classifier: Module, mean: Float64Array, scale: Float64Array): ProbeHead {
  const kernelVar = classifier.trainable.get('linear.kernel');
  const biasVar = classifier.trainable.get('linear.bias');
  if (!kernelVar || !biasVar) throw new Error('the probe classifier has no linear.kernel / linear.bias');
  const [inputDim, numClasses] = kernelVar.shape;
  const w = kernelVar.dataSync();
  const b = biasVar.dataSync();
  const kernel = new Array<number>(inputDim * numClasses);
  const bias = Array.from(b);
  for (let i = 0; i < inputDim; i++) {
    for (let c = 0; c < numClasses; c++) {
      const folded = scale[i] * w[i * numClasses + c];
      kernel[i * numClasses + c] = folded;
      bias[c] -= mean[i] * folded;
    }
  }
  return { inputDim, numClasses, kernel, bias };
}

export function writeProbeHead(file: string, head: ProbeHead): void {
  writeJsonAtomic(file, head);
}

/** Loads `head.json` into a linear classifier of the same shape; a clear error when missing or mismatched. */
export function loadProbeHead(file: string, classifier: Module): void {
  if (!fs.existsSync(file)) {
    throw new UsageError(`classifier head ${file} does not exist: run the linear probe first (it writes head.json in its run folder), or use classifierInit 'random'`);
  }
  const head = JSON.parse(fs.readFileSync(file, 'utf8')) as ProbeHead;
  const kernelVar = classifier.trainable.get('linear.kernel')!;
  const biasVar = classifier.trainable.get('linear.bias')!;
  const [inputDim, numClasses] = kernelVar.shape;
  if (head.inputDim !== inputDim || head.numClasses !== numClasses) {
    throw new UsageError(`classifier head ${file} is ${head.inputDim} x ${head.numClasses}, the encoder needs ${inputDim} x ${numClasses}`);
  }
  tf.tidy(() => {
    kernelVar.assign(tf.tensor2d(head.kernel, [inputDim, numClasses]));
    biasVar.assign(tf.tensor1d(head.bias));
  });
}
