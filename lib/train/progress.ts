import { SingleBar, Presets } from 'cli-progress';
import type { EpochRecord } from './history';
import type { LoopHooks, StepReport } from './loop';

function formatEpoch(label: string, r: EpochRecord): string {
  const parts = [`${label} epoch ${r.epoch}`, `loss ${r.trainLoss.toFixed(4)}`];
  if (r.valAccuracy !== undefined) parts.push(`val ${(100 * r.valAccuracy).toFixed(2)}%`);
  if (r.knnAccuracy !== undefined) parts.push(`kNN ${(100 * r.knnAccuracy).toFixed(2)}%`);
  if (r.onlineProbeAccuracy !== undefined) parts.push(`probe ${(100 * r.onlineProbeAccuracy).toFixed(2)}%`);
  if (r.embeddingStd !== undefined) parts.push(`std ${r.embeddingStd.toFixed(4)}`);
  parts.push(`lr ${r.learningRate.toExponential(2)}`, `${r.imagesPerSecond.toFixed(0)} img/s`, `${r.seconds.toFixed(1)} s`);
  return parts.join('  ');
}

/**
 * Reporting hooks for a run: a progress bar (loss, learning rate, images/s, time left) on a
 * terminal, plain log lines otherwise (CI, notebooks, files).
 */
export function progressHooks(label: string, write: (line: string) => void = (l) => console.log(l), interactive = Boolean(process.stderr.isTTY)): LoopHooks {
  let bar: SingleBar | null = null;
  let lastLogged = 0;
  const barFor = (report: StepReport): SingleBar => {
    if (!bar) {
      bar = new SingleBar({
        format: `${label} epoch {epoch}/{epochs} {bar} {value}/{total} loss {loss} lr {lr} {ips} img/s eta {eta_formatted}`,
        hideCursor: true, clearOnComplete: true, etaBuffer: 20,
      }, Presets.shades_classic);
      bar.start(report.stepsPerEpoch, 0, { epoch: report.epoch, epochs: report.epochs, loss: '-', lr: '-', ips: '-' });
    }
    return bar;
  };
  return {
    onStart: (info) => write(`${label}: ${info.resumed ? 'resuming at' : 'starting'} epoch ${info.startEpoch} of ${info.epochs}, ${info.stepsPerEpoch} steps per epoch`),
    onStep: (report) => {
      if (interactive) {
        barFor(report).update(report.stepInEpoch, {
          epoch: report.epoch, epochs: report.epochs, loss: report.loss.toFixed(4),
          lr: report.learningRate.toExponential(2), ips: report.imagesPerSecond.toFixed(0),
        });
      } else if (Date.now() - lastLogged > 30_000) {
        lastLogged = Date.now();
        write(`${label} epoch ${report.epoch} step ${report.stepInEpoch}/${report.stepsPerEpoch} loss ${report.loss.toFixed(4)} lr ${report.learningRate.toExponential(2)} ${report.imagesPerSecond.toFixed(0)} img/s`);
      }
    },
    onEpochEnd: (record) => {
      if (bar) {
        (bar as SingleBar).stop();
        bar = null;
      }
      write(formatEpoch(label, record));
    },
    onEnd: () => {
      if (bar) (bar as SingleBar).stop();
      bar = null;
    },
  };
}
