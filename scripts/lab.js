#!/usr/bin/env node
// `npm run lab`: registers the project's tslab kernel (a kernelspec under .jupyter/, found through
// JUPYTER_PATH) and starts JupyterLab on the project. Extra arguments go to jupyter-lab.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const path = require('node:path');

require('tsx/cjs');
const { jupyterEnv, writeKernelspec } = require('../lib/report/notebooks.ts');

const root = path.resolve(__dirname, '..');
const jupyterDir = writeKernelspec(root);
const env = jupyterEnv(jupyterDir);

function hasJupyterLab() {
  return spawnSync('jupyter-lab', ['--version'], { env, stdio: 'ignore' }).status === 0;
}

if (!hasJupyterLab()) {
  console.error([
    'JupyterLab is not installed. Install it with:',
    '  pip install jupyterlab',
    'then run `npm run lab` again.',
    '',
    `The TypeScript kernel of this project is registered in ${path.join(jupyterDir, 'kernels', 'tslab')}.`,
    'To use it from a Jupyter started some other way:',
    `  JUPYTER_PATH=${jupyterDir} jupyter lab`,
    'Notebooks also run headless without JupyterLab: npm run notebooks',
  ].join('\n'));
  process.exit(1);
}

console.log(`tslab kernel registered in ${jupyterDir}; starting JupyterLab in ${root}`);
const lab = spawn('jupyter-lab', [`--notebook-dir=${root}`, ...process.argv.slice(2)], { env, stdio: 'inherit' });
lab.on('close', (code) => process.exit(code === null ? 1 : code));
// Ctrl-C reaches JupyterLab directly (same process group); it asks before shutting down.
process.on('SIGINT', () => undefined);
