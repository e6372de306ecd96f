import path from 'node:path';

/**
 * The Apache Kafka the local stack and docker-compose.yml run by default: the newest 4.x release
 * on Maven Central. `CDC_KAFKA_VERSION` selects another one (CI runs the compatibility subset on
 * KAFKA_COMPAT_VERSION); see `kafkaLine` for what differs between the two lines.
 */
export const KAFKA_VERSION = '4.4.0';
/** The 3.x line, still supported and tested in CI (`.ci/run`, the compatibility subset). */
export const KAFKA_COMPAT_VERSION = '3.9.1';
/**
 * The Kafka Connect runtime the local stack runs the Debezium connector on. Not KAFKA_VERSION:
 * Debezium PostgreSQL 3.6.1.Final fails its task on connect-runtime 4.4.0 (NoClassDefFoundError:
 * org/apache/kafka/common/utils/Sanitizer, from io.debezium.metrics.Metrics), so Connect stays on
 * the 3.9 line, whose clients talk to 4.x brokers as well. Move it with the Debezium version.
 */
export const CONNECT_KAFKA_VERSION = KAFKA_COMPAT_VERSION;
/** The broker versions CI tests against (README, "Supported Kafka versions"). */
export const TESTED_KAFKA_VERSIONS = [KAFKA_VERSION, KAFKA_COMPAT_VERSION] as const;
/**
 * Apicurio 3.0.x runs on Java 17; 3.1 and later (3.3.3 is current) need Java 21, and the stack
 * promises to run on Java 17+ (Debian bookworm's default JDK). Moving needs that promise changed first.
 */
export const APICURIO_VERSION = '3.0.9';
/**
 * The Debezium PostgreSQL connector the local stack runs on its Connect worker (Maven Central:
 * io.debezium:debezium-connector-postgres), and the tag of Debezium's Connect image in
 * docker-compose.yml (quay.io/debezium/connect, which carries Kafka Connect and this connector).
 */
export const DEBEZIUM_VERSION = '3.6.1.Final';
/**
 * The PostgreSQL major release of docker-compose.yml's official `postgres` image: the one the
 * local stack runs from Debian bookworm's packages (postgresql-15). A major tag: its minor
 * releases are bug and security fixes only, with the same data format.
 */
export const POSTGRES_MAJOR_VERSION = '15';
export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const POM_FILE = path.join(REPO_ROOT, 'stack', 'pom.xml');

/** What the stack does differently per Kafka release line. */
export interface KafkaLine {
  major: 3 | 4;
  /** The SLF4J binding Maven adds to Kafka's jars (Kafka 3 logs through reload4j, Kafka 4 through Log4j 2). */
  loggingBinding: { groupId: string; artifactId: string; version: string };
  /** The Java system property naming the logging configuration file. */
  loggingConfigProperty: 'log4j.configuration' | 'log4j2.configurationFile';
}

/**
 * The release line of a Kafka version, or an error message for versions the stack cannot run:
 * 3.9 (the last 3.x, whose KRaft tools take the same arguments as 4.x) and every 4.x.
 */
export function kafkaLine(version: string): KafkaLine | string {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!m) return `"${version}" is not a Kafka release version (like ${KAFKA_VERSION})`;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major === 4) {
    return {
      major: 4,
      // Kafka 4's own jars bring log4j-api and log4j-core (kafka-server's runtime dependencies)
      // and SLF4J 1.7: this is the binding between the two, in the version log4j-core has.
      loggingBinding: {
        groupId: 'org.apache.logging.log4j',
        artifactId: 'log4j-slf4j-impl',
        version: '2.25.5',
      },
      loggingConfigProperty: 'log4j2.configurationFile',
    };
  }
  if (major === 3 && minor === 9) {
    return {
      major: 3,
      loggingBinding: { groupId: 'org.slf4j', artifactId: 'slf4j-reload4j', version: '1.7.36' },
      loggingConfigProperty: 'log4j.configuration',
    };
  }
  return `Kafka ${version} is not supported by the local stack: use 3.9.x or 4.x (tested: ${TESTED_KAFKA_VERSIONS.join(', ')})`;
}
