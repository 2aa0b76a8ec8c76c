/**
 * Published CIFAR-10 numbers to read our results against. They are anchors, not targets: they
 * come from longer training on GPUs/TPUs with larger encoders or batches. Ranges mark
 * approximate values gathered from several reproductions rather than one table.
 */
export interface PublishedResult {
  /** where the number comes from */
  source: string;
  url: string;
  method: string;
  encoder: string;
  /** labelled fraction, % */
  labelPct: number;
  /** training epochs (pretraining epochs for SimCLR) */
  epochs: number;
  /** images per batch, or null when the source does not pin one */
  batchSize: number | null;
  hardware: string;
  /** CIFAR-10 test accuracy, %: one value, or [low, high] for an approximate range */
  accuracy: number | [number, number];
  note: string;
}

export const PUBLISHED_RESULTS: PublishedResult[] = [
  {
    source: 'Chen et al. 2020, SimCLR (ICML), appendix B.9',
    url: 'https://arxiv.org/abs/2002.05709',
    method: 'SimCLR + linear probe', encoder: 'ResNet-50', labelPct: 100, epochs: 1000, batchSize: 4096,
    hardware: 'Cloud TPU', accuracy: 94.0,
    note: 'best of a sweep over batch size and epochs',
  },
  {
    source: 'typical open-source ResNet-18 reproductions (approximate)',
    url: '',
    method: 'SimCLR + linear probe', encoder: 'ResNet-18', labelPct: 100, epochs: 1000, batchSize: null,
    hardware: '1 GPU', accuracy: [88, 89],
    note: 'varies with augmentation, batch size and probe recipe',
  },
  {
    source: 'typical open-source ResNet-18 reproductions (approximate)',
    url: '',
    method: 'SimCLR + linear probe', encoder: 'ResNet-18', labelPct: 100, epochs: 100, batchSize: null,
    hardware: '1 GPU', accuracy: [83, 86],
    note: 'short pretraining',
  },
  {
    source: 'kuangliu/pytorch-cifar (GitHub README)',
    url: 'https://github.com/kuangliu/pytorch-cifar',
    method: 'supervised, all labels', encoder: 'ResNet-18', labelPct: 100, epochs: 200, batchSize: 128,
    hardware: '1 GPU', accuracy: 93.02,
    note: 'crop + flip, SGD, cosine schedule; 93–95% is typical for this setup',
  },
];

/** An accuracy as text: `94.0` or `88–89 (approx.)`. */
export function formatPublishedAccuracy(accuracy: PublishedResult['accuracy']): string {
  return typeof accuracy === 'number' ? accuracy.toFixed(1) : `${accuracy[0]}–${accuracy[1]} (approx.)`;
}
