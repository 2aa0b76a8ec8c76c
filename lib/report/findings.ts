import type { Method, RunRecord } from '../experiments/records';
import { labelPercents, summarise, type Summary } from './stats';
import { METHOD_STYLES } from './style';

/**
 * The comparisons a reader asks of the study, answered in sentences computed from the records:
 * SSL against the same network trained from scratch, against the random-encoder floor, fine-tuning
 * against scratch, the basic CNN against the ResNet, and the sampling ablation. Differences are
 * of seed means, in percentage points; where either side has one seed the sentence says so,
 * because a single run cannot tell a small gap from noise.
 */
export function keyFindings(records: RunRecord[]): string[] {
  const accuracy = (method: Method, pct: number): Summary =>
    summarise(records.filter((r) => r.method === method && r.labelPct === pct).map((r) => 100 * r.testAccuracy));
  const pcts = labelPercents(records).reverse();
  const label = (m: Method): string => METHOD_STYLES[m].label;

  /** "+5.3 at 100 %, +2.1 at 10 %" for pcts where both methods ran; null when none. */
  const gaps = (a: Method, b: Method): { text: string; values: number[]; singleSeed: boolean } | null => {
    const parts: string[] = [];
    const values: number[] = [];
    let singleSeed = false;
    for (const pct of pcts) {
      const sa = accuracy(a, pct);
      const sb = accuracy(b, pct);
      if (sa.n === 0 || sb.n === 0) continue;
      const gap = sa.mean - sb.mean;
      values.push(gap);
      singleSeed ||= sa.n === 1 || sb.n === 1;
      parts.push(`${signed(gap)} at ${pct} %`);
    }
    return values.length > 0 ? { text: parts.join(', '), values, singleSeed } : null;
  };

  const findings: string[] = [];
  const compare = (a: Method, b: Method, lead: string): void => {
    const g = gaps(a, b);
    if (!g) return;
    const wins = g.values.filter((v) => v > 0).length;
    const verdict = wins === g.values.length ? 'ahead at every label budget'
      : wins === 0 ? 'behind at every label budget'
        : `ahead at ${wins} of ${g.values.length} label budgets`;
    findings.push(`${lead}: ${label(a)} minus ${label(b)} is ${g.text} (points of test accuracy; ${verdict}${g.singleSeed ? '; one seed on at least one side' : ''}).`);
  };

  compare('simclr-linear', 'supervised-resnet', '**SSL versus labels only**');
  compare('simclr-finetune', 'supervised-resnet', '**Fine-tuning versus scratch** (same network, recipe and steps)');
  compare('simclr-linear', 'random-linear', '**Against the floor**');
  compare('simclr-knn', 'simclr-linear', '**kNN versus linear probe** on the same frozen features');
  compare('supervised-cnn', 'supervised-resnet', '**Basic CNN versus ResNet**, both from scratch');

  const fixed = accuracy('simclr-fixed-subset-linear', 100);
  const fresh = accuracy('simclr-fresh-subset-linear', 100);
  if (fixed.n > 0 && fresh.n > 0) {
    findings.push(`**Dynamic data sampling** (equal steps, linear probe with all labels): fresh subset ${fresh.mean.toFixed(1)} % against fixed subset ${fixed.mean.toFixed(1)} % (${signed(fresh.mean - fixed.mean)} points${fixed.n === 1 || fresh.n === 1 ? '; one pretraining run each, so how this gap compares with the variation between pretraining seeds is not measured' : ''}).`);
  }
  return findings;
}

function signed(points: number): string {
  return `${points >= 0 ? '+' : '−'}${Math.abs(points).toFixed(1)}`;
}
