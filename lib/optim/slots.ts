import * as tf from '@tensorflow/tfjs';

/**
 * One zero-initialised, non-trainable variable per parameter and slot kind, named
 * `<parameter path>/<kind>` (e.g. "stage1.block0.conv1.kernel/momentum"), shaped like the parameter.
 */
export function makeSlots(params: Map<string, tf.Variable>, kinds: string[]): Map<string, tf.Variable> {
  const slots = new Map<string, tf.Variable>();
  for (const [name, param] of params) {
    for (const kind of kinds) {
      slots.set(`${name}/${kind}`, tf.tidy(() => tf.variable(tf.zerosLike(param), false)));
    }
  }
  return slots;
}

/**
 * Each gradient with its parameter, as [name, parameter, gradient]. All names are checked before
 * any update, so an unknown name (a wiring mistake) leaves every parameter untouched.
 */
export function withParams(
  params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>,
): Array<[string, tf.Variable, tf.Tensor]> {
  return Array.from(grads, ([name, grad]) => {
    const param = params.get(name);
    if (param === undefined) throw new Error(`gradient for "${name}", which is not a parameter of this optimizer`);
    return [name, param, grad];
  });
}

/** Releases every slot variable. */
export function disposeSlots(slots: Map<string, tf.Variable>): void {
  for (const slot of slots.values()) slot.dispose();
  slots.clear();
}

/** The `kind` slot of parameter `name`. */
export function slotOf(slots: Map<string, tf.Variable>, name: string, kind: string): tf.Variable {
  const slot = slots.get(`${name}/${kind}`);
  if (slot === undefined) throw new Error(`optimizer slot "${name}/${kind}" is missing`);
  return slot;
}
