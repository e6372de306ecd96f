// The integration tests CI runs a second time against Kafka 3.9 (KAFKA_COMPAT_VERSION in
// packages/stack/src/versions.ts), after the whole suite on the default 4.x broker: every file
// that exercises what differs between broker versions for kafkajs — transactions, consumer groups,
// static membership, admin offsets (last stable offsets, high watermarks, offsets by timestamp),
// the backfill and the rebuild — and the tests that pin the kafkajs patch. `npm run test:compat`
// runs them (scripts/test-compat.js); this list is the one place that names them.
module.exports = [
  'packages/core/test/integration/kafkajs-patch.test.ts',
  'packages/core/test/integration/kafkajs-transactions.test.ts',
  'packages/core/test/integration/stack.test.ts',
  'packages/core/test/integration/control.test.ts',
  'packages/testing/test/integration/read.test.ts',
  'services/enricher/test/integration/exactly-once.test.ts',
  'services/enricher/test/integration/peer-fencing.test.ts',
  'services/aggregator/test/integration/crash.test.ts',
  'services/aggregator/test/integration/rebuild.test.ts',
  'apps/cdc/test/integration/backfill.test.ts',
  'apps/cdc/test/integration/backfill-resume.test.ts',
  'apps/cdc/test/integration/status.test.ts',
];
