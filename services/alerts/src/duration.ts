/** Durations in the rules file and on the command line are core's (`500ms`, `30s`, `5m`, `1h`, `7d`). */
export { parseDuration, formatDuration } from '@cdc/core';
