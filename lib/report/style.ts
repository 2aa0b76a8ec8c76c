import { ABLATION_ARMS, type Method } from '../experiments/records';

/** How a method appears in every figure and table: one colour and one name everywhere. */
export interface MethodStyle {
  label: string;
  color: string;
}

export const METHOD_STYLES: Record<Method, MethodStyle> = {
  'simclr-knn': { label: 'SimCLR + kNN', color: '#9467bd' },
  'simclr-linear': { label: 'SimCLR + linear probe', color: '#1f77b4' },
  'simclr-finetune': { label: 'SimCLR + fine-tune', color: '#2ca02c' },
  'simclr-lpft': { label: 'SimCLR + LP-FT', color: '#98df8a' },
  'supervised-resnet': { label: 'Supervised ResNet', color: '#d62728' },
  'supervised-resnet-matched': { label: 'Supervised ResNet, compute-matched', color: '#8c564b' },
  'supervised-cnn': { label: 'Supervised basic CNN', color: '#ff7f0e' },
  'random-linear': { label: 'Random encoder + linear probe', color: '#7f7f7f' },
  'simclr-checkpoint-linear': { label: 'SimCLR checkpoint + linear probe', color: '#aec7e8' },
  'simclr-fixed-subset-linear': { label: 'SimCLR fixed subset + linear', color: '#17becf' },
  'simclr-fresh-subset-linear': { label: 'SimCLR fresh subset + linear', color: '#bcbd22' },
  'simclr-all-chunked-linear': { label: 'SimCLR all images + linear', color: '#e377c2' },
};

/** Order of methods in legends and tables: SSL first, then baselines, then ablations. */
export const METHOD_ORDER: Method[] = [
  'simclr-linear', 'simclr-finetune', 'simclr-lpft', 'simclr-knn', 'supervised-resnet', 'supervised-resnet-matched', 'supervised-cnn',
  'random-linear', 'simclr-checkpoint-linear', 'simclr-fresh-subset-linear', 'simclr-fixed-subset-linear', 'simclr-all-chunked-linear',
];

/** Methods that are not rows of the main tables (ablation arms, pretraining checkpoints): they have tables of their own. */
export const SIDE_METHODS = new Set<Method>(['simclr-checkpoint-linear', ...ABLATION_ARMS.map((a) => a.method)]);

/** Ten distinct colours (plotly's D3 category palette): one per CIFAR-10 class, or per run. */
export const PALETTE = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd',
  '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf',
];

/** The i-th palette colour (class i, or the i-th run without a method); repeats after ten. */
export function paletteColor(i: number): string {
  return PALETTE[i % PALETTE.length];
}

/** Methods present in `methods`, in `METHOD_ORDER`. */
export function orderMethods(methods: Iterable<Method>): Method[] {
  const present = new Set(methods);
  return METHOD_ORDER.filter((m) => present.has(m));
}
