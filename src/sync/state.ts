// The saved base of a pair, in one import: the records (state/model.ts), folders as stored
// (state/stored.ts), the file (state/codec.ts).

export * from './state/model.js';
export {
  compactFolder, folderSummary, isConverged, mappedFolder, patchFolder, readRecords, recordsFor, sealedFolder, sideCount, sideDigest, withUidValidity, type SavedSummary,
} from './state/stored.js';
export { StateDamagedError } from './state/records.js';
export { parseState, serializeState, stateParts, type StateLoad, type StateReader } from './state/codec.js';
