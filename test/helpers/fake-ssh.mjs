#!/usr/bin/env node
// Stands in for ssh in tests: ignores the options and the host, runs the remote command with sh as sshd would.
import { spawn } from 'node:child_process';

const command = process.argv[process.argv.length - 1];
const child = spawn('sh', ['-c', command], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
