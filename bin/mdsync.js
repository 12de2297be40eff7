#!/usr/bin/env node
// Entry point: runs the compiled command-line program and exits with its code.

// Enough libuv threads for parallel file I/O (the default 4 serialises fsyncs); set before first use.
process.env.UV_THREADPOOL_SIZE ??= '16';
const { main } = await import('../dist/src/cli/main.js');

process.exitCode = await main(process.argv.slice(2));
