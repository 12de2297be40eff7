// `mdsync sync` with the second side behind `mdsync serve` in a child process.

import { serveTransport } from '../helpers/transports.js';
import { syncSuite } from './sync.suite.js';

syncSuite(serveTransport);
