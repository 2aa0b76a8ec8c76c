import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { sgdCosine } from '../lib/config/defaults';
import type { OptimizerConfig } from '../lib/config/types';
import { trustRatio } from '../lib/optim/lars';
import { makeOptimizer } from '../lib/optim/optimizer';
import type { Optimizer } from '../lib/optim/optimizer';
import { learningRateAt } from '../lib/optim/schedule';

const sgd: OptimizerConfig = { ...sgdCosine, kind: 'sgd', momentum: 0.9, nesterov: false, weightDecay: 0.01 };

function params(values: Record<string, number[]>): Map<string, tf.Variable> {
  return new Map(Object.entries(values).map(([name, v]) => [name, tf.variable(tf.tensor1d(v))]));
}

function grads(values: Record<string, number[]>): Map<string, tf.Tensor> {
  return new Map(Object.entries(values).map(([name, v]) => [name, tf.tensor1d(v)]));
}

/** Applies one step with constant gradients, disposing them. */
function stepWith(opt: Optimizer, values: Record<string, number[]>, lr: number): void {
  const g = grads(values);
  try {
    opt.applyGradients(g, lr);
  } finally {
    for (const t of g.values()) t.dispose();
  }
}

function assertClose(actual: tf.Tensor, expected: number[], tolerance = 1e-6): void {
  const got = Array.from(actual.dataSync());
  got.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= tolerance, `[${got}] != [${expected}]`));
}

function disposeAll(p: Map<string, tf.Variable>, opt: Optimizer): void {
  opt.dispose();
  for (const v of p.values()) v.dispose();
}

test('SGD with momentum: two steps match the hand computation (PyTorch semantics)', () => {
  const p = params({ 'fc.kernel': [1, -2] });
  const opt = makeOptimizer(sgd, p);
  // g' = g + 0.01 w = [0.51, 0.48]; v = g'; w = w - 0.1 v
  stepWith(opt, { 'fc.kernel': [0.5, 0.5] }, 0.1);
  assertClose(p.get('fc.kernel')!, [0.949, -2.048]);
  // g' = [0.50949, 0.47952]; v = 0.9 [0.51, 0.48] + g' = [0.96849, 0.91152]; w = w - 0.1 v
  stepWith(opt, { 'fc.kernel': [0.5, 0.5] }, 0.1);
  assertClose(p.get('fc.kernel')!, [0.852151, -2.139152]);
  assertClose(opt.slots.get('fc.kernel/momentum')!, [0.96849, 0.91152]);
  assert.equal(opt.step, 2);
  disposeAll(p, opt);
});

test('SGD with Nesterov momentum: two steps match the hand computation', () => {
  const p = params({ 'fc.kernel': [1, -2] });
  const opt = makeOptimizer({ ...sgd, nesterov: true }, p);
  // g' = [0.51, 0.48]; v = g'; u = g' + 0.9 v = [0.969, 0.912]
  stepWith(opt, { 'fc.kernel': [0.5, 0.5] }, 0.1);
  assertClose(p.get('fc.kernel')!, [0.9031, -2.0912]);
  // g' = [0.509031, 0.479088]; v = [0.968031, 0.911088]; u = g' + 0.9 v = [1.3802589, 1.2990672]
  stepWith(opt, { 'fc.kernel': [0.5, 0.5] }, 0.1);
  assertClose(p.get('fc.kernel')!, [0.76507411, -2.22110672]);
  disposeAll(p, opt);
});

test('SGD and Nesterov agree with tf.train.momentum over ten steps without decay', () => {
  for (const nesterov of [false, true]) {
    const ours = params({ 'a.kernel': [0.3, -0.7, 1.1] });
    const theirs = tf.variable(tf.tensor1d([0.3, -0.7, 1.1]));
    const opt = makeOptimizer({ ...sgd, weightDecay: 0, nesterov }, ours);
    const reference = tf.train.momentum(0.05, 0.9, nesterov);
    for (let i = 0; i < 10; i++) {
      const g = [Math.sin(i), Math.cos(i), 0.1 * i];
      stepWith(opt, { 'a.kernel': g }, 0.05);
      tf.tidy(() => reference.applyGradients([{ name: theirs.name, tensor: tf.tensor1d(g) }]));
    }
    assertClose(ours.get('a.kernel')!, Array.from(theirs.dataSync()), 1e-5);
    reference.dispose();
    theirs.dispose();
    disposeAll(ours, opt);
  }
});

test('weight decay skips batch-norm parameters and biases when asked, and only then', () => {
  const names = ['bn.gamma', 'bn.beta', 'fc.bias', 'fc.kernel'];
  const zeros = Object.fromEntries(names.map((n) => [n, [0, 0]]));
  for (const excludes of [true, false]) {
    const p = params(Object.fromEntries(names.map((n) => [n, [1, 2]])));
    const opt = makeOptimizer({ ...sgd, momentum: 0, weightDecay: 0.1, decayExcludesNormAndBias: excludes }, p);
    stepWith(opt, zeros, 1); // zero gradient: only the decay moves the weights, w <- (1 - 0.1) w
    for (const name of names) {
      const decayed = !excludes || name === 'fc.kernel';
      assertClose(p.get(name)!, decayed ? [0.9, 1.8] : [1, 2]);
    }
    disposeAll(p, opt);
  }
});

test('Adam: two steps match the hand computation; decay is decoupled', () => {
  const adam: OptimizerConfig = { ...sgd, kind: 'adam', momentum: 0.9, weightDecay: 0 };
  const p = params({ 'w.kernel': [1] });
  const opt = makeOptimizer(adam, p);
  // m = 0.02, s = 4e-5; m^ = 0.2, s^ = 0.04; step = 0.2 / (0.2 + 1e-8) ~ 1
  stepWith(opt, { 'w.kernel': [0.2] }, 0.01);
  assertClose(p.get('w.kernel')!, [0.99]);
  // m = 0.008, s = 4.996e-5; m^ = 0.008 / 0.19 = 0.0421053, s^ = 4.996e-5 / 0.001999 = 0.0249925; step = 0.266337
  stepWith(opt, { 'w.kernel': [-0.1] }, 0.01);
  assertClose(p.get('w.kernel')!, [0.98733663]);
  disposeAll(p, opt);

  // Decoupled: w <- w - lr (adam step + wd w) = 1 - 0.01 (1 + 0.1) with the gradient untouched by the decay.
  const q = params({ 'w.kernel': [1] });
  const decayed = makeOptimizer({ ...adam, weightDecay: 0.1 }, q);
  stepWith(decayed, { 'w.kernel': [0.2] }, 0.01);
  assertClose(q.get('w.kernel')!, [0.989]);
  disposeAll(q, decayed);
});

test('Adam agrees with tf.train.adam over ten steps without decay', () => {
  const ours = params({ 'a.kernel': [0.3, -0.7, 1.1] });
  const theirs = tf.variable(tf.tensor1d([0.3, -0.7, 1.1]));
  const opt = makeOptimizer({ ...sgd, kind: 'adam', momentum: 0.9, weightDecay: 0 }, ours);
  const reference = tf.train.adam(0.01, 0.9, 0.999, 1e-8);
  for (let i = 0; i < 10; i++) {
    const g = [Math.sin(i), Math.cos(i), 0.1 * i];
    stepWith(opt, { 'a.kernel': g }, 0.01);
    tf.tidy(() => reference.applyGradients([{ name: theirs.name, tensor: tf.tensor1d(g) }]));
  }
  assertClose(ours.get('a.kernel')!, Array.from(theirs.dataSync()), 1e-5);
  reference.dispose();
  theirs.dispose();
  disposeAll(ours, opt);
});

test('LARS scales the step by eta ||w|| / ||g + wd w|| (SimCLR); excluded parameters take plain SGD steps', () => {
  const lars: OptimizerConfig = { ...sgd, kind: 'lars', momentum: 0, weightDecay: 0.5, larsEta: 0.001 };
  const ratio = tf.tidy(() => trustRatio(tf.tensor1d([3, 4]), tf.tensor1d([1.5, 3]), 0.001));
  assertClose(ratio, [0.001 * 5 / Math.hypot(1.5, 3)]);
  ratio.dispose();
  const zero = tf.tidy(() => trustRatio(tf.zeros([2]), tf.tensor1d([0, 1]), 0.001));
  assertClose(zero, [1]); // zero weights: ratio undefined, taken as 1
  zero.dispose();

  const p = params({ 'fc.kernel': [3, 4], 'bn.gamma': [3, 4] });
  const opt = makeOptimizer(lars, p);
  stepWith(opt, { 'fc.kernel': [0, 1], 'bn.gamma': [0, 1] }, 2);
  // By hand: w = [3, 4], g = [0, 1], wd = 0.5: d = g + wd w = [1.5, 3], ||d|| = sqrt(11.25) = 3.3541,
  // r = 0.001 * 5 / 3.3541 = 0.0014907; w - lr r d = [3 - 2 * 0.0014907 * 1.5, 4 - 2 * 0.0014907 * 3]
  // = [2.995528, 3.991056]. The old form ||g|| + wd ||w|| = 3.5 would give [2.995714, 3.991429].
  assertClose(p.get('fc.kernel')!, [2.995528, 3.991056], 1e-6);
  // gamma: no decay, no trust ratio: w - lr g
  assertClose(p.get('bn.gamma')!, [3, 2]);
  disposeAll(p, opt);
});

test('LARS with momentum matches a hand-computed two-step update', () => {
  const lars: OptimizerConfig = { ...sgd, kind: 'lars', momentum: 0.9, nesterov: false, weightDecay: 0.1, larsEta: 0.01 };
  const p = params({ 'fc.kernel': [1, 0] });
  const opt = makeOptimizer(lars, p);
  let w = [1, 0];
  let v = [0, 0];
  for (const g of [[0, 2], [1, 1]]) {
    const d = [g[0] + 0.1 * w[0], g[1] + 0.1 * w[1]];
    const r = (0.01 * Math.hypot(w[0], w[1])) / Math.hypot(d[0], d[1]);
    v = [0.9 * v[0] + 0.5 * r * d[0], 0.9 * v[1] + 0.5 * r * d[1]];
    w = [w[0] - v[0], w[1] - v[1]];
    stepWith(opt, { 'fc.kernel': g }, 0.5);
  }
  assertClose(p.get('fc.kernel')!, w, 1e-6);
  disposeAll(p, opt);
});

test('every optimizer drives an ill-conditioned quadratic towards its minimum', () => {
  const target = tf.tensor1d([1, -2, 3, 0.5]);
  const curvature = tf.tensor1d([1, 10, 0.3, 3]);
  const kinds: Array<[OptimizerConfig, number]> = [
    [{ ...sgd, learningRate: 0.05, weightDecay: 0 }, 0.01],
    [{ ...sgd, learningRate: 0.05, weightDecay: 0, nesterov: true }, 0.01],
    [{ ...sgd, kind: 'adam', learningRate: 0.3, weightDecay: 0 }, 0.01],
    [{ ...sgd, kind: 'lars', learningRate: 5, larsEta: 0.02, weightDecay: 0 }, 0.01],
  ];
  for (const [config, factor] of kinds) {
    const p = params({ 'q.kernel': [0.1, 0.1, 0.1, 0.1] });
    const w = p.get('q.kernel')!;
    const opt = makeOptimizer(config, p);
    const loss = () => tf.tidy(() => w.sub(target).square().mul(curvature).sum().dataSync()[0]);
    const initial = loss();
    for (let step = 0; step < 200; step++) {
      const { grads: g, value } = tf.variableGrads(() => w.sub(target).square().mul(curvature).sum() as tf.Scalar, [w]);
      opt.applyGradients(new Map([['q.kernel', g[w.name]]]), learningRateAt(step, 200, 10, config));
      tf.dispose([value, g]);
    }
    assert.ok(loss() < factor * initial, `${config.kind}${config.nesterov ? ' nesterov' : ''}: ${initial} -> ${loss()}`);
    disposeAll(p, opt);
  }
  tf.dispose([target, curvature]);
});

test('no tensor is left behind by a step, and dispose releases the slots', () => {
  for (const kind of ['sgd', 'adam', 'lars'] as const) {
    const p = params({ 'fc.kernel': [1, 2, 3], 'fc.bias': [0.5] });
    const before = tf.memory().numTensors;
    const opt = makeOptimizer({ ...sgd, kind, nesterov: true }, p);
    const withSlots = tf.memory().numTensors;
    assert.equal(withSlots - before, kind === 'adam' ? 4 : 2);
    for (let i = 0; i < 3; i++) stepWith(opt, { 'fc.kernel': [0.1, 0.2, 0.3], 'fc.bias': [1] }, 0.1);
    assert.equal(tf.memory().numTensors, withSlots, kind);
    opt.dispose();
    assert.equal(tf.memory().numTensors, before, kind);
    for (const v of p.values()) v.dispose();
  }
});

test('an optimizer restored from slots and step continues exactly like the original', () => {
  for (const kind of ['sgd', 'adam', 'lars'] as const) {
    const config = { ...sgd, kind };
    const gradientAt = (i: number) => ({ 'fc.kernel': [Math.sin(i), Math.cos(i)] });
    const p = params({ 'fc.kernel': [1, -1] });
    const original = makeOptimizer(config, p);
    for (let i = 0; i < 3; i++) stepWith(original, gradientAt(i), 0.1);

    const q = params({ 'fc.kernel': Array.from(p.get('fc.kernel')!.dataSync()) });
    const restored = makeOptimizer(config, q);
    for (const [name, slot] of original.slots) restored.slots.get(name)!.assign(slot);
    restored.step = original.step;

    stepWith(original, gradientAt(3), 0.1);
    stepWith(restored, gradientAt(3), 0.1);
    assertClose(q.get('fc.kernel')!, Array.from(p.get('fc.kernel')!.dataSync()), 0);
    disposeAll(p, original);
    disposeAll(q, restored);
  }
});

test('the factory rejects settings that cannot work and names the fix', () => {
  const p = params({ 'fc.kernel': [1] });
  assert.throws(() => makeOptimizer({ ...sgd, momentum: 0, nesterov: true }, p), /momentum > 0/);
  assert.throws(() => makeOptimizer({ ...sgd, momentum: 1 }, p), /\[0, 1\)/);
  assert.throws(() => makeOptimizer({ ...sgd, kind: 'lars', larsEta: 0 }, p), /eta/);
  const opt = makeOptimizer(sgd, p);
  assert.throws(() => stepWith(opt, { 'fc.kernel': [1], 'other.kernel': [1] }, 0.1), /not a parameter/);
  assertClose(p.get('fc.kernel')!, [1], 0); // nothing was updated
  disposeAll(p, opt);
});
