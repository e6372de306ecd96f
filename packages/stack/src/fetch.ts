import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { StackError, type Logger } from '@cdc/core';
import { APICURIO_VERSION, KAFKA_VERSION, POM_FILE } from './versions';

/** Pinned: 3.x resolves the Apicurio artifact's parent POM, which Maven Central does not have. */
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:2.8';

export interface Distributions {
  kafkaLibDir: string;
  registryJar: string;
}

/**
 * Fetches Kafka's jars and Apicurio Registry's distribution from Maven Central with `mvn`, once:
 * a `.complete` marker makes later calls free. Maven's own cache (~/.m2) makes a refetch cheap.
 */
export function ensureDistributions(home: string, logger: Logger): Distributions {
  const kafkaDir = path.join(home, 'dist', `kafka-${KAFKA_VERSION}`);
  const registryDir = path.join(home, 'dist', `apicurio-registry-${APICURIO_VERSION}`);
  const result: Distributions = {
    kafkaLibDir: path.join(kafkaDir, 'lib'),
    registryJar: path.join(registryDir, `apicurio-registry-app-${APICURIO_VERSION}-runner.jar`),
  };
  if (!existsSync(path.join(kafkaDir, '.complete'))) {
    logger.info({ version: KAFKA_VERSION }, 'fetching Apache Kafka from Maven Central (first run only)');
    rmSync(kafkaDir, { recursive: true, force: true });
    mvn([
      '-f',
      POM_FILE,
      `-Dkafka.version=${KAFKA_VERSION}`,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${result.kafkaLibDir}`,
      `-DmarkersDirectory=${path.join(kafkaDir, '.markers')}`,
    ]);
    if (!readdirSync(result.kafkaLibDir).some((f) => f.startsWith(`kafka_2.13-${KAFKA_VERSION}`))) {
      throw new StackError(
        `Maven finished but ${result.kafkaLibDir} holds no kafka_2.13-${KAFKA_VERSION} jar`,
      );
    }
    writeFileSync(path.join(kafkaDir, '.complete'), new Date().toISOString());
  }
  if (!existsSync(path.join(registryDir, '.complete'))) {
    logger.info(
      { version: APICURIO_VERSION },
      'fetching Apicurio Registry from Maven Central (first run only)',
    );
    rmSync(registryDir, { recursive: true, force: true });
    mkdirSync(registryDir, { recursive: true });
    mvn([
      '-f',
      POM_FILE,
      `${DEPENDENCY_PLUGIN}:unpack`,
      `-Dartifact=io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`,
      `-DoutputDirectory=${registryDir}`,
      // The plugin skips artifacts it has "already unpacked" by markers, kept by default in the
      // POM's target/: keep them with the output so deleting the stack folder refetches.
      `-DmarkersDirectory=${path.join(registryDir, '.markers')}`,
    ]);
    if (!existsSync(result.registryJar))
      throw new StackError(`Maven finished but ${result.registryJar} is missing`);
    writeFileSync(path.join(registryDir, '.complete'), new Date().toISOString());
  }
  return result;
}

function mvn(args: string[]): void {
  const r = spawnSync('mvn', ['-B', '-q', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error)
    throw new StackError(
      `'mvn' is needed to fetch the stack from Maven Central but could not run: ${r.error.message}`,
    );
  if (r.status !== 0) {
    throw new StackError(
      `'mvn ${args.join(' ')}' failed (exit ${r.status}):\n${(r.stdout + r.stderr).slice(-3000)}`,
    );
  }
}
