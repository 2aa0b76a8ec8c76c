import { ABLATION_ARMS, type Method, type RunRecord } from '../experiments/records';
import { bootstrapInterval, correctnessOfAll, labelPercents, summarise } from './stats';
import { METHOD_STYLES } from './style';
import { undertrainedRuns } from './study-tables';

/** Sizes of the encoders the findings compare (from the preset), when known. */
export interface EncoderSizes {
  resnet?: { parameters: number; featureDim: number };
  basicCnn?: { parameters: number; featureDim: number };
}

/** A difference of seed means in points with its 95 % bootstrap interval, and what may be said of it. */
interface Gap {
  labelPct: number;
  points: number;
  ci: [number, number] | null;
}

function verdictOf(gap: Gap): 'ahead' | 'behind' | 'unclear' {
  if (!gap.ci) return 'unclear';
  if (gap.ci[0] > 0) return 'ahead';
  if (gap.ci[1] < 0) return 'behind';
  return 'unclear';
}

/**
 * The comparisons a reader asks of the study, answered in sentences computed from the records:
 * SSL against the same network trained from scratch (equal labels, and equal compute), against
 * the random-encoder floor, fine-tuning and LP-FT against scratch, the basic CNN against the
 * ResNet, the sampling ablation, and which runs may be undertrained. Differences are of seed
 * means in points, each with a 95 % bootstrap interval (test images and seeds resampled); a gap
 * is called a lead only when its interval excludes zero.
 */
export function keyFindings(records: RunRecord[], sizes: EncoderSizes = {}): string[] {
  const of = (method: Method, pct: number): RunRecord[] => records.filter((r) => r.method === method && r.labelPct === pct);
  const pcts = labelPercents(records).reverse();
  const label = (m: Method): string => METHOD_STYLES[m].label;

  const gapsOf = (a: Method, b: Method, only?: number[]): Gap[] => pcts.flatMap((labelPct) => {
    if (only && !only.includes(labelPct)) return [];
    const ra = of(a, labelPct);
    const rb = of(b, labelPct);
    if (ra.length === 0 || rb.length === 0) return [];
    const ci = bootstrapInterval(correctnessOfAll(ra), correctnessOfAll(rb));
    return [{
      labelPct,
      points: 100 * (summarise(ra.map((r) => r.testAccuracy)).mean - summarise(rb.map((r) => r.testAccuracy)).mean),
      ci: ci ? [100 * ci[0], 100 * ci[1]] : null,
    }];
  });

  const findings: string[] = [];
  const compare = (a: Method, b: Method, lead: string, only?: number[]): void => {
    const gaps = gapsOf(a, b, only);
    if (gaps.length === 0) return;
    const text = gaps.map((g) => `${signed(g.points)} at ${g.labelPct} %${g.ci ? ` [${signed(g.ci[0])}, ${signed(g.ci[1])}]` : ''}`).join(', ');
    const verdicts = gaps.map(verdictOf);
    const at = (v: string): string => gaps.filter((_, i) => verdicts[i] === v).map((g) => `${g.labelPct} %`).join(', ');
    const parts = [
      at('ahead') && `ahead at ${at('ahead')}`,
      at('behind') && `behind at ${at('behind')}`,
      at('unclear') && `no clear difference at ${at('unclear')} (the interval includes zero)`,
    ].filter(Boolean);
    findings.push(`${lead}: ${label(a)} minus ${label(b)} is ${text} (points of test accuracy, 95 % bootstrap intervals; ${parts.join('; ')}).`);
  };

  compare('simclr-linear', 'supervised-resnet', '**SSL versus labels only** (equal labels)');
  compare('simclr-linear', 'supervised-resnet-matched', '**SSL versus labels only at equal compute** (the scratch run trained on as many images as pretraining plus the probe)', [100]);
  compare('simclr-finetune', 'supervised-resnet', '**Fine-tuning versus scratch** (same network and recipe, learning rate chosen on validation)');
  compare('simclr-lpft', 'simclr-finetune', '**LP-FT versus fine-tuning** (same learning rate, classifier started from the probe)');
  compare('simclr-linear', 'random-linear', '**Against the floor**');
  compare('simclr-knn', 'simclr-linear', '**kNN versus linear probe** on the same frozen features (k chosen on validation)');
  compare('supervised-cnn', 'supervised-resnet', '**Basic CNN versus ResNet**, both from scratch');
  if (sizes.resnet && sizes.basicCnn && records.some((r) => r.method === 'supervised-cnn')) {
    findings.push(`**Not a matched pair:** the basic CNN has ${sizes.basicCnn.parameters.toLocaleString('en-US')} parameters and ${sizes.basicCnn.featureDim}-d features, the ResNet ${sizes.resnet.parameters.toLocaleString('en-US')} and ${sizes.resnet.featureDim}-d, so their gap mixes architecture with size.`);
  }

  const fresh = records.filter((r) => r.method === 'simclr-fresh-subset-linear');
  for (const arm of ABLATION_ARMS.filter((a) => a.mode !== 'fresh-subset')) {
    const other = records.filter((r) => r.method === arm.method);
    const seeds = other.map((r) => r.seed).filter((s) => fresh.some((f) => f.seed === s)).sort((a, b) => a - b);
    if (seeds.length === 0) continue;
    const mine = seeds.map((s) => fresh.find((r) => r.seed === s)!);
    const theirs = seeds.map((s) => other.find((r) => r.seed === s)!);
    const diff = summarise(mine.map((r, i) => 100 * (r.testAccuracy - theirs[i].testAccuracy)));
    const ci = bootstrapInterval(correctnessOfAll(mine), correctnessOfAll(theirs), { pairedSeeds: true });
    const gap: Gap = { labelPct: mine[0].labelPct, points: diff.mean, ci: ci ? [100 * ci[0], 100 * ci[1]] : null };
    const verdict = verdictOf(gap);
    findings.push(`**Dynamic sampling** (equal steps, ${seeds.length} pretraining seeds, linear probe at ${gap.labelPct} % labels): fresh subset minus ${label(arm.method).replace(' + linear', '')} is ${signed(diff.mean)} ± ${diff.std.toFixed(1)} points, paired by seed${gap.ci ? ` [${signed(gap.ci[0])}, ${signed(gap.ci[1])}]` : ''}: ${verdict === 'unclear' ? 'no clear difference' : `fresh subsets ${verdict}`}.`);
  }

  const undertrained = undertrainedRuns(records);
  if (undertrained.length > 0) {
    const count = undertrained.reduce((s, g) => s + g.seeds.length, 0);
    findings.push(`**Possibly undertrained:** ${count} run${count === 1 ? '' : 's'} ended without a validation plateau (the best validation accuracy of the last 20 % of evaluations was more than half a point above the best before them): ${undertrained.map((g) => `${label(g.method)} at ${g.labelPct} % (seed${g.seeds.length === 1 ? '' : 's'} ${g.seeds.join(', ')})`).join('; ')}. Their numbers are lower bounds of what the method reaches.`);
  } else if (records.some((r) => r.plateau === true)) {
    findings.push('**Converged:** every run that trains a network or probe ended on a validation plateau.');
  }
  return findings;
}

function signed(points: number): string {
  return `${points >= 0 ? '+' : '−'}${Math.abs(points).toFixed(1)}`;
}
