import type { BackendName, DataConfig } from '../config/types';
import { ensureData, loadCifar, makeSplits } from '../data/index';
import { type BackendReport, formatBackendReport, selectBackend } from '../backend/select';
import type { DataContext } from '../train/data-context';

export interface RunContext {
  backend: BackendReport;
  data: DataContext;
}

/** Chooses the backend and loads the data and splits: what every command and notebook does first. */
export async function prepareContext(dataConfig: DataConfig, backend?: BackendName, log: (line: string) => void = console.log): Promise<RunContext> {
  const report = await selectBackend(backend);
  log(formatBackendReport(report));
  const dir = await ensureData(dataConfig.root);
  const dataset = loadCifar(dir);
  const splits = makeSplits(dataset, dataConfig);
  log(`data: ${dir} (fingerprint ${dataset.fingerprint}); training pool ${splits.trainPool.length}, validation ${splits.validation.length}, test ${splits.test.length} images`);
  return { backend: report, data: { dataset, splits } };
}

/** Ctrl-C asks the running loop to save and stop after its current step; a second Ctrl-C exits at once. */
export function installStopHandler(): { requested: boolean; remove: () => void } {
  const stop = { requested: false, remove: () => process.removeListener('SIGINT', onSigint) };
  function onSigint(): void {
    if (stop.requested) process.exit(130);
    stop.requested = true;
    console.error('\nstopping after this step and saving a checkpoint (Ctrl-C again to quit now)');
  }
  process.on('SIGINT', onSigint);
  return stop;
}
