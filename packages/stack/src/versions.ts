import path from 'node:path';

export const KAFKA_VERSION = '3.9.1';
/** Apicurio 3.0.x runs on Java 17 (3.1+ needs Java 21). */
export const APICURIO_VERSION = '3.0.9';
export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const POM_FILE = path.join(REPO_ROOT, 'stack', 'pom.xml');
