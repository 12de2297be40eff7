// `mdsync sync` whose first runs into an empty side go a folder at a time (passes).

import { inPasses, serveTransport } from '../helpers/transports.js';
import { syncSuite } from './sync.suite.js';

syncSuite(inPasses(serveTransport));
