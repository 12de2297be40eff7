#!/usr/bin/env node
// Entry point: runs the compiled command-line program and exits with its code.
'use strict';

// Enough libuv threads for fsyncs issued together (the default 4 commits a disk's journal for
// fewer files at a time). libuv reads this when its pool first starts: this file is CommonJS
// because an ES module's loader has started the pool before the module runs.
process.env.UV_THREADPOOL_SIZE ??= '16';

import('../dist/src/cli/main.js').then(async ({ main }) => {
  process.exitCode = await main(process.argv.slice(2));
});
