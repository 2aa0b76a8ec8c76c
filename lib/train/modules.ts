import type * as tf from '@tensorflow/tfjs';
import type { Module } from '../models/types';

/** Joins the variables of several modules under prefixes ("encoder.", "head.") into one map. */
export function prefixed(parts: Record<string, Module | null>, which: 'trainable' | 'state' | 'both'): Map<string, tf.Variable> {
  const joined = new Map<string, tf.Variable>();
  for (const [prefix, module] of Object.entries(parts)) {
    if (!module) continue;
    const maps = which === 'both' ? [module.trainable, module.state] : [module[which]];
    for (const map of maps) for (const [name, variable] of map) joined.set(`${prefix}.${name}`, variable);
  }
  return joined;
}
