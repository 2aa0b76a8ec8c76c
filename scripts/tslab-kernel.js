#!/usr/bin/env node
// Starts the tslab kernel with the project root as its working folder, whatever folder the
// notebook is in. tslab 1.0 compiles cells and the .ts files they import with `rootDir` set to
// the working folder, so `lib/` must lie below it; notebooks therefore import `./lib/...` and
// read `results/...` relative to the project root. The project's kernelspec (written by
// lib/report/notebooks.ts) runs this file with the connection file as its only argument.
'use strict';
const path = require('node:path');

// Workspace packages (packages/*, such as tfjs-backend-onnx) are TypeScript that lib/ requires by
// package name; tslab compiles only what notebooks import by relative path, so Node loads the
// packages itself, through tsx as the command line does.
require('tsx/cjs');

const root = path.resolve(__dirname, '..');
process.chdir(root);
const { startKernel } = require(path.join(root, 'node_modules', 'tslab', 'dist', 'main.js'));
startKernel({ configPath: process.argv[2], enableFindLocal: false });
