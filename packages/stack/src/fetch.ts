import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { StackError, type Logger } from '@cdc/core';
import { APICURIO_VERSION, KAFKA_VERSION, kafkaLine, POM_FILE } from './versions';

/** Pinned: 3.x resolves the Apicurio artifact's parent POM, which Maven Central does not have. */
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:2.8';

export interface Distributions {
  kafkaLibDir: string;
  registryJar: string;
}

const distDirs = (home: string, kafkaVersion: string) => ({
  kafkaDir: path.join(home, 'dist', `kafka-${kafkaVersion}`),
  registryDir: path.join(home, 'dist', `apicurio-registry-${APICURIO_VERSION}`),
});

/** Whether `ensureDistributions` has nothing to fetch (a first run downloads for minutes). */
export function distributionsFetched(home: string, kafkaVersion: string = KAFKA_VERSION): boolean {
  const { kafkaDir, registryDir } = distDirs(home, kafkaVersion);
  return existsSync(path.join(kafkaDir, '.complete')) && existsSync(path.join(registryDir, '.complete'));
}

/**
 * Fetches Kafka's jars and Apicurio Registry's distribution from Maven Central with `mvn`, once:
 * a `.complete` marker makes later calls free. Maven's own cache (~/.m2) makes a refetch cheap.
 */
export function ensureDistributions(
  home: string,
  logger: Logger,
  kafkaVersion: string = KAFKA_VERSION,
): Distributions {
  const line = kafkaLine(kafkaVersion);
  if (typeof line === 'string') throw new StackError(line, 'CONFIG_INVALID');
  const { kafkaDir, registryDir } = distDirs(home, kafkaVersion);
  const result: Distributions = {
    kafkaLibDir: path.join(kafkaDir, 'lib'),
    registryJar: path.join(registryDir, `apicurio-registry-app-${APICURIO_VERSION}-runner.jar`),
  };
  if (!existsSync(path.join(kafkaDir, '.complete'))) {
    logger.info({ version: kafkaVersion }, 'fetching Apache Kafka from Maven Central (first run only)');
    rmSync(kafkaDir, { recursive: true, force: true });
    mkdirSync(kafkaDir, { recursive: true });
    mvn(kafkaDir, [
      `-Dkafka.version=${kafkaVersion}`,
      `-Dlogging.groupId=${line.loggingBinding.groupId}`,
      `-Dlogging.artifactId=${line.loggingBinding.artifactId}`,
      `-Dlogging.version=${line.loggingBinding.version}`,
      `${DEPENDENCY_PLUGIN}:copy-dependencies`,
      `-DoutputDirectory=${result.kafkaLibDir}`,
    ]);
    if (!readdirSync(result.kafkaLibDir).some((f) => f.startsWith(`kafka_2.13-${kafkaVersion}`))) {
      throw new StackError(
        `Maven finished but ${result.kafkaLibDir} holds no kafka_2.13-${kafkaVersion} jar`,
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
    mvn(registryDir, [
      `${DEPENDENCY_PLUGIN}:unpack`,
      `-Dartifact=io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`,
      `-DoutputDirectory=${registryDir}`,
    ]);
    if (!existsSync(result.registryJar))
      throw new StackError(`Maven finished but ${result.registryJar} is missing`);
    writeFileSync(path.join(registryDir, '.complete'), new Date().toISOString());
  }
  return result;
}

/**
 * Runs Maven on a copy of stack/pom.xml inside `dir`. The dependency plugin skips artifacts it
 * has "already unpacked" by marker files in the POM's target/ (and 2.8 ignores
 * -DmarkersDirectory for unpack), so a POM of its own in the fresh output folder makes every
 * fetch start without stale markers and leaves no target/ in the repository.
 */
export function mvn(dir: string, args: string[], pomFile: string = POM_FILE): void {
  const work = path.join(dir, '.maven');
  mkdirSync(work, { recursive: true });
  const pom = path.join(work, 'pom.xml');
  copyFileSync(pomFile, pom);
  const r = spawnSync('mvn', ['-B', '-q', '-f', pom, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
