/**
 * Three fused training ops with their own gradients, which this backend implements as kernels:
 * momentum SGD's parameter update, training-mode batch norm (+ ReLU) and a residual add + ReLU.
 * Each `has*()` says whether the active backend has the kernels; where it does not, a caller keeps
 * the composed tf ops (which give the same values).
 */
export { ADD_RELU, fusedAddRelu, hasFusedAddRelu, RELU_GRAD } from './fused-add-relu';
export { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, fusedBatchNormTrain, hasFusedBatchNorm, type BatchNormTrainAttrs, type BatchNormTrainResult } from './fused-batch-norm';
export { fusedSgdUpdate, hasFusedSgd, SGD_UPDATE, sgdUpdateInto, type SgdUpdateAttrs } from './fused-sgd';
