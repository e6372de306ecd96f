// Two projects: `unit` (pure logic, no I/O, fast) and `integration` (a real Kafka broker and
// schema registry, started once by test/global-setup.ts unless KAFKA_BROKERS is set).
// ts-jest transpiles only (type checking is `tsc -p tsconfig.tests.json`, run before the tests).
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }] };
const moduleNameMapper = {
  '^@cdc/(core|bookings|observe|read-model|stack|testing)$': '<rootDir>/packages/$1/src',
  '^@cdc/cli$': '<rootDir>/apps/cdc/src',
  '^@cdc/(producer|enricher|aggregator|live-ui|alerts|capture)$': '<rootDir>/services/$1/src',
};
// The local stack's folder (data of Kafka, the registry, PostgreSQL) is no source: jest does not crawl it.
const common = {
  rootDir: __dirname,
  transform,
  moduleNameMapper,
  testEnvironment: 'node',
  modulePathIgnorePatterns: ['<rootDir>/.stack/'],
};

module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/{packages,services,apps}/*/test/unit/**/*.test.ts',
        '<rootDir>/test/unit/**/*.test.ts',
      ],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{packages,services,apps}/*/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/global-setup.ts',
      globalTeardown: '<rootDir>/test/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/integration-timeout.ts'],
    },
  ],
};
