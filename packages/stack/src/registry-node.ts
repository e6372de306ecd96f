import path from 'node:path';

/** Apicurio Registry (Quarkus), its Confluent-compatible API under /apis/ccompat/v7, data in an H2 file. */
export interface RegistryNodeOptions {
  dir: string;
  port: number;
  heapMb: number;
}

export const CCOMPAT_PATH = '/apis/ccompat/v7';

/**
 * How the registry stores schemas, wherever it runs: SQL storage on an H2 database file.
 * `registryCommand` passes these as -D properties for `cdc stack up`; docker-compose.yml sets the
 * same ones as APICURIO_* variables (a unit test compares the two).
 */
export const REGISTRY_STORAGE_SETTINGS: Readonly<Record<string, string>> = {
  'apicurio.storage.kind': 'sql',
  'apicurio.storage.sql.kind': 'h2',
};

/** The JDBC URL of an H2 database kept in `file` (H2 appends `.mv.db`). */
export function h2DatasourceUrl(file: string): string {
  return `jdbc:h2:file:${file};DB_CLOSE_ON_EXIT=FALSE`;
}

export function registryFiles(dir: string) {
  return {
    dbFile: path.join(dir, 'data', 'registry'),
    logFile: path.join(dir, 'registry.log'),
    pidFile: path.join(dir, 'registry.pid'),
  };
}

export function registryCommand(java: string, jar: string, o: RegistryNodeOptions): string[] {
  const f = registryFiles(o.dir);
  return [
    java,
    `-Xmx${o.heapMb}m`,
    '-XX:+UseSerialGC',
    `-Dquarkus.http.port=${o.port}`,
    '-Dquarkus.http.host=127.0.0.1',
    ...Object.entries(REGISTRY_STORAGE_SETTINGS).map(([key, value]) => `-D${key}=${value}`),
    `-Dapicurio.datasource.url=${h2DatasourceUrl(f.dbFile)}`,
    '-Dquarkus.log.level=WARN',
    '-Dquarkus.log.category."io.apicurio".level=INFO',
    '-jar',
    jar,
  ];
}
