// `mdsync backup` between two local directories.

import { localTransport } from '../helpers/transports.js';
import { backupSuite } from './backup.suite.js';

backupSuite(localTransport);
