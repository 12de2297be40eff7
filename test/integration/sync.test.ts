// `mdsync sync` between two local directories.

import { localTransport } from '../helpers/transports.js';
import { syncSuite } from './sync.suite.js';

syncSuite(localTransport);
