export { EsdbProtocolDouble } from './esdb-protocol-double.js';
export type { EsdbProtocolDoubleOptions } from './esdb-protocol-double.js';
