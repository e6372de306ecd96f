import path from 'node:path';

/** Apicurio Registry (Quarkus), its Confluent-compatible API under /apis/ccompat/v7, data in an H2 file. */
export interface RegistryNodeOptions {
  dir: string;
  port: number;
  heapMb: number;
}

export const CCOMPAT_PATH = '/apis/ccompat/v7';

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
    `-Dapicurio.datasource.url=jdbc:h2:file:${f.dbFile};DB_CLOSE_ON_EXIT=FALSE`,
    '-Dapicurio.storage.sql.kind=h2',
    '-Dquarkus.log.level=WARN',
    '-Dquarkus.log.category."io.apicurio".level=INFO',
    '-jar',
    jar,
  ];
}
