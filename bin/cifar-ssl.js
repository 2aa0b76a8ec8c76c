#!/usr/bin/env node
// The command line runs the TypeScript sources directly through tsx, so the library that the
// notebooks import and the code behind the commands are the same files, with no build step.
'use strict';
require('tsx/cjs');
require('../lib/cli/main.ts').main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err instanceof Error ? err.stack : String(err)); process.exitCode = 1; },
);
