/** `cdc import`: existing bookings (CSV or JSON Lines) into bronze as snapshot reads. */
export { runImport, IMPORT_KINDS, type ImportConfig, type ImportControls } from './run-import';
export {
  parseColumnMap,
  bindColumns,
  IMPORT_FIELDS,
  REQUIRED_FIELDS,
  type ColumnMap,
  type ImportField,
} from './columns';
export { decimalToCents, parseWholeNumber } from './decimal';
export { createTimestampParser, type TimestampParser } from './timestamps';
export { parseRow, sameBooking, isNullToken, type ImportedBooking, type RowResult } from './rows';
export { decide, type Decision } from './decide';
export { createCheckpointTracker, emptyCounts, type Checkpoint, type ImportCounts } from './checkpoint';
export { createIdFilter, type IdFilter } from '@cdc/core';
export { createStateStore, type BookingState, type StateStore } from './state-store';
export { progressPath } from './progress-file';
export { rejectsPath } from './rejects';
export { formatImportSummary, type ImportSummary } from './summary';
export type { ImportProgressMode } from './progress';
