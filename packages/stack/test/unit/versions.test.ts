import { readFileSync } from 'node:fs';
import { ConfigError } from '@cdc/core';
import { stackConfig } from '../../src/stack';
import {
  KAFKA_COMPAT_VERSION,
  KAFKA_VERSION,
  kafkaLine,
  POM_FILE,
  TESTED_KAFKA_VERSIONS,
} from '../../src/versions';

describe('Kafka versions of the local stack', () => {
  it('defaults to the 4.x pin and tests 3.9 too', () => {
    expect(KAFKA_VERSION).toMatch(/^4\.\d+\.\d+$/);
    expect(KAFKA_COMPAT_VERSION).toMatch(/^3\.9\.\d+$/);
    expect(TESTED_KAFKA_VERSIONS).toEqual([KAFKA_VERSION, KAFKA_COMPAT_VERSION]);
    expect(stackConfig({}).kafkaVersion).toBe(KAFKA_VERSION);
  });

  it('logs through Log4j 2 on 4.x and reload4j on 3.9', () => {
    expect(kafkaLine('4.4.0')).toMatchObject({
      major: 4,
      loggingConfigProperty: 'log4j2.configurationFile',
      loggingBinding: { artifactId: 'log4j-slf4j-impl' },
    });
    expect(kafkaLine('3.9.1')).toMatchObject({
      major: 3,
      loggingConfigProperty: 'log4j.configuration',
      loggingBinding: { artifactId: 'slf4j-reload4j' },
    });
  });

  it("the POM's defaults are the default line's (Maven gets every one as -D anyway)", () => {
    const pom = readFileSync(POM_FILE, 'utf8');
    const line = kafkaLine(KAFKA_VERSION);
    if (typeof line === 'string') throw new Error(line);
    expect(pom).toContain(`<kafka.version>${KAFKA_VERSION}</kafka.version>`);
    expect(pom).toContain(`<logging.artifactId>${line.loggingBinding.artifactId}</logging.artifactId>`);
    expect(pom).toContain(`<logging.version>${line.loggingBinding.version}</logging.version>`);
  });

  it('CDC_KAFKA_VERSION selects a release; one the stack cannot run stops with what to use', () => {
    expect(stackConfig({ CDC_KAFKA_VERSION: '3.9.1' })).toMatchObject({
      kafkaVersion: '3.9.1',
      kafkaLine: { major: 3 },
    });
    expect(() => stackConfig({ CDC_KAFKA_VERSION: '3.7.0' })).toThrow(ConfigError);
    expect(() => stackConfig({ CDC_KAFKA_VERSION: '3.7.0' })).toThrow(
      /CDC_KAFKA_VERSION="3.7.0".*3\.9\.x or 4\.x/,
    );
    expect(() => stackConfig({ CDC_KAFKA_VERSION: 'latest' })).toThrow(/not a Kafka release version/);
  });
});
