/** The CIFAR-10 data layer: getting the data, loading it, splitting it and batching it. */
export {
  ARCHIVE_NAME, BATCHES_FOLDER, BATCH_FILES, CHANNELS, DEFAULT_CLASS_NAMES, IMAGE_BYTES, IMAGE_SIZE, NUM_CLASSES,
  OFFICIAL_MD5, OFFICIAL_URL, RECORD_BYTES, TEST_FILE, TRAIN_FILES,
} from './cifar-format';
export { type CifarSummary, validateCifarDir } from './validate';
export { type CifarDataset, type CifarSplit, type LoadOptions, loadCifar } from './load';
export { type ImportOptions, type ImportResult, importCifar } from './import-data';
export { type DownloadOptions, type ProgressHook, downloadCifar, downloadFile } from './download';
export { type EnsureOptions, ensureData, hasBatchFiles, resolveDataDir } from './data-dir';
export { STANDARD_FRACTIONS, STANDARD_SEEDS, type SplitOptions, type StudySplits, checkFraction, makeSplits } from './splits';
export { EpochSampler } from './sampler';
export { type Batch, batchCount, gatherBatch, iterateBatches } from './batches';
