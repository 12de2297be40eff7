// `mdsync backup` with the second side behind `mdsync serve` in a child process.

import { serveTransport } from '../helpers/transports.js';
import { backupSuite } from './backup.suite.js';

backupSuite(serveTransport);
