#!/usr/bin/env node
// The command line runs the TypeScript sources directly through tsx, so the library that the
// notebooks import and the code behind the commands are the same files, with no build step.
'use strict';
require('tsx/cjs');
const { missingNodeFlags } = require('../lib/util/node-flags.ts');

const flags = missingNodeFlags();
if (flags.length > 0) {
  // V8 flags such as --single-threaded-gc only take effect at start-up (lib/util/node-flags.ts):
  // run the command in a child started with them. The child is in the same process group, so a
  // Ctrl-C in the terminal reaches it directly (its first Ctrl-C saves a checkpoint, a second one
  // quits); termination signals sent to this process alone are passed on.
  const { spawn } = require('node:child_process');
  const child = spawn(process.execPath, [...process.execArgv, ...flags, __filename, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.on('SIGINT', () => undefined);
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => { console.error(err.message); process.exitCode = 1; });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      return;
    }
    process.exitCode = code === null ? 1 : code;
  });
} else {
  require('../lib/cli/main.ts').main(process.argv).then(
    (code) => { process.exitCode = code; },
    (err) => { console.error(err instanceof Error ? err.stack : String(err)); process.exitCode = 1; },
  );
}
