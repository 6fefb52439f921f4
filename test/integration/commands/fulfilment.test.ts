import { describeFulfilment } from '../../support/fulfilment-scenarios.js';
import { openWriteSide } from '../../support/write-side.js';

describeFulfilment('PostgreSQL', () => openWriteSide('fulfilment'));
