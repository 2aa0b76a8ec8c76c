#!/usr/bin/env node
// Runs every test/**/*.test.ts file, the study's and each workspace package's (packages/*/test),
// with Node's built-in test runner (through tsx).
// Node 20's `--test` takes no globs, so the file list is collected here.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

function collect(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return collect(full);
    return entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

const root = path.join(__dirname, '..');
const filter = process.argv.slice(2);
const packages = fs.readdirSync(path.join(root, 'packages')).map((name) => path.join(root, 'packages', name, 'test'));
let files = [path.join(root, 'test'), ...packages.filter((dir) => fs.existsSync(dir))].flatMap(collect).sort();
if (filter.length > 0) files = files.filter((f) => filter.some((word) => f.includes(word)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', ...files],
  { stdio: 'inherit', cwd: root },
);
process.exit(result.status === null ? 1 : result.status);
