import type { CifarDataset, StudySplits } from '../data/index';

/** The loaded dataset and its splits, loaded once and shared by every run of a study. */
export interface DataContext {
  dataset: CifarDataset;
  splits: StudySplits;
}
