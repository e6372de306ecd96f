/**
 * @cdc/bookings: the booking domain's pure logic, shared by the stages, the tests and the
 * benchmarks. No I/O here.
 * - `samples/`: the seeded sample-bookings generator (the producer's demo source, and the one
 *   generator every test and benchmark draws its changes from) and its random source.
 * - `derivation/`: the enricher's versioned derivation rules (bronze change → silver record),
 *   pure, so that tests and benchmarks derive silver exactly as the enricher does.
 */
export * from './samples/generator';
export * from './samples/random';
export * from './samples/booking-dates';
export * from './derivation/derive';
export * from './derivation/rules';
