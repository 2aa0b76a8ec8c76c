import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeJsonAtomic } from '../util/atomic-write';
import { UserError } from '../util/errors';
import { trainingNodeFlags } from '../util/node-flags';

/** Kernel name of the project's kernelspec; it shadows a user-wide `tslab install` while JUPYTER_PATH points here. */
export const KERNEL_NAME = 'tslab';

/** The project root: the folder holding `lib/` and `node_modules/`. */
export function projectRoot(): string {
  return path.resolve(__dirname, '..', '..');
}

/**
 * Writes `<root>/.jupyter/kernels/tslab/kernel.json`, which starts the project's tslab through
 * `scripts/tslab-kernel.js` with this Node binary, and returns the folder to put on JUPYTER_PATH.
 * Paths are absolute, so the file is machine-specific and rewritten on every run (git-ignored).
 */
export function writeKernelspec(root = projectRoot()): string {
  const jupyterDir = path.join(root, '.jupyter');
  writeJsonAtomic(path.join(jupyterDir, 'kernels', KERNEL_NAME, 'kernel.json'), {
    argv: [process.execPath, ...trainingNodeFlags(), path.join(root, 'scripts', 'tslab-kernel.js'), '{connection_file}'],
    display_name: 'TypeScript (cifar-ssl)',
    language: 'typescript',
  });
  return jupyterDir;
}

/** Environment in which Jupyter finds the project's kernel first. */
export function jupyterEnv(jupyterDir: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const paths = [jupyterDir, ...(env.JUPYTER_PATH ? env.JUPYTER_PATH.split(path.delimiter) : [])];
  return { ...env, JUPYTER_PATH: paths.join(path.delimiter) };
}

/**
 * The first Python that can run notebooks (imports nbclient and nbformat): $CIFAR_SSL_PYTHON,
 * Debian's /usr/bin/python3, then `python3` on PATH. Null when none can.
 */
export function findNotebookPython(env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates = [env.CIFAR_SSL_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => Boolean(c));
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import nbclient, nbformat, jupyter_client'], { stdio: 'ignore' });
    if (probe.status === 0) return python;
  }
  return null;
}

/** `dir`'s notebooks in name order; `only` keeps those whose name starts with one of its prefixes (`01`, `02`). */
export function listNotebooks(dir: string, only: string[] = []): string[] {
  if (!fs.existsSync(dir)) throw new UserError(`no notebook folder at ${dir}`);
  const all = fs.readdirSync(dir).filter((f) => f.endsWith('.ipynb')).sort();
  const picked = only.length === 0 ? all : all.filter((f) => only.some((prefix) => f.startsWith(prefix)));
  if (picked.length === 0) {
    throw new UserError(`no notebooks in ${dir}${only.length > 0 ? ` match --only ${only.join(',')}` : ''}: check the names`);
  }
  return picked.map((f) => path.join(dir, f));
}

/** Where executed notebooks go: back into their own files, or into another folder. */
export type NotebookOutput = { inplace: true } | { dir: string };

export interface ExecuteOptions {
  notebooks: string[];
  output: NotebookOutput;
  /** seconds per cell; -1 for no limit */
  timeoutSeconds: number;
  /** passed to the notebooks as CIFAR_SSL_PRESET */
  preset?: string;
  /** passed to the notebooks as CIFAR_SSL_RESULTS and CIFAR_SSL_RUNS (see studyRoots) */
  resultsRoot?: string;
  runsRoot?: string;
  root?: string;
  /** Python with nbclient; found with `findNotebookPython` when absent */
  python?: string;
}

/** Why a cell failed, as the execution script reports it. */
export interface CellError {
  /** 1-based cell number in the notebook */
  cell: number;
  /** first line of the cell's source */
  source: string;
  ename: string;
  evalue: string;
  /** the cell's stderr (tslab prints compile errors there) */
  stderr: string;
}

export interface NotebookResult {
  notebook: string;
  output: string;
  ok: boolean;
  seconds: number;
  error: CellError | null;
}

/** One line for the command line: the notebook, the cell and the first line of its error. */
export function describeFailure(result: NotebookResult): string {
  const e = result.error;
  if (!e) return `${path.basename(result.notebook)} failed`;
  const detail = [e.evalue, e.stderr].map((t) => t.trim()).find((t) => t !== '') ?? e.ename;
  return `${path.basename(result.notebook)} failed in cell ${e.cell} (${e.source}): ${detail.split('\n')[0]}`;
}

/**
 * Runs notebooks top to bottom, headless, each in a fresh tslab kernel (nbclient through
 * `scripts/execute-notebooks.py`), stopping at the first failing cell, which becomes a UserError.
 * Progress lines go to the inherited stdout.
 */
export async function executeNotebooks(options: ExecuteOptions): Promise<NotebookResult[]> {
  const root = options.root ?? projectRoot();
  const python = options.python ?? findNotebookPython();
  if (!python) {
    throw new UserError('no Python with nbclient found: run `apt-get install python3-nbclient python3-ipykernel jupyter-client` (or pip install nbclient) or set CIFAR_SSL_PYTHON');
  }
  const env = jupyterEnv(writeKernelspec(root));
  if (options.preset) env.CIFAR_SSL_PRESET = options.preset;
  if (options.resultsRoot) env.CIFAR_SSL_RESULTS = path.resolve(options.resultsRoot);
  if (options.runsRoot) env.CIFAR_SSL_RUNS = path.resolve(options.runsRoot);
  const output = options.output;
  const pairs = options.notebooks.flatMap((nb) => [nb, 'inplace' in output ? nb : path.join(output.dir, path.basename(nb))]);
  const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cifar-ssl-notebooks-'));
  const reportFile = path.join(reportDir, 'report.json');
  try {
    const args = [
      path.join(root, 'scripts', 'execute-notebooks.py'), '--kernel', KERNEL_NAME,
      '--timeout', String(options.timeoutSeconds), '--cwd', root, '--report', reportFile, ...pairs,
    ];
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(python, args, { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] });
      child.on('error', reject);
      child.on('close', resolve);
    });
    if (!fs.existsSync(reportFile)) {
      throw new UserError(`notebook execution stopped before reporting (exit code ${code}): see the messages above`);
    }
    const results = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as NotebookResult[];
    const failed = results.find((r) => !r.ok);
    if (failed) {
      if (failed.error?.stderr) console.error(failed.error.stderr);
      throw new UserError(describeFailure(failed));
    }
    return results;
  } finally {
    fs.rmSync(reportDir, { recursive: true, force: true });
  }
}
