// A large folder changed on a served far side: only its changes travel.

import { serveTransport } from '../helpers/transports.js';
import { changesSuite } from './changes.suite.js';

changesSuite(serveTransport);
