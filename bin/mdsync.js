#!/usr/bin/env node
// Entry point: runs the compiled command-line program and exits with its code.
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
