// `mdsync backup` whose first copies go a folder at a time (passes), locally and to `mdsync serve`.

import { inPasses, localTransport, serveTransport } from '../helpers/transports.js';
import { backupSuite } from './backup.suite.js';

backupSuite(inPasses(localTransport));
backupSuite(inPasses(serveTransport));
