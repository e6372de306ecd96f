/**
 * docker-compose.yml checked without a container engine: the file is parsed and compared with
 * what `cdc stack up` uses (versions, ports, broker and registry settings) and with what each
 * image is known to contain (the table below, read from the images' own build files).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { connectTopics, CONNECT_WORKER_SETTINGS } from '../../src/connect-node';
import { KAFKA_BROKER_SETTINGS } from '../../src/kafka-node';
import {
  POSTGRES_SERVER_SETTINGS,
  SOURCE_TABLE_DDL,
  STACK_DATABASE,
  STACK_DB_PASSWORD,
  STACK_DB_USER,
} from '../../src/postgres-node';
import { CCOMPAT_PATH, h2DatasourceUrl, REGISTRY_STORAGE_SETTINGS } from '../../src/registry-node';
import { sourceStackConfig } from '../../src/source-stack';
import { stackConfig } from '../../src/stack';
import {
  APICURIO_VERSION,
  DEBEZIUM_VERSION,
  KAFKA_VERSION,
  POSTGRES_MAJOR_VERSION,
  REPO_ROOT,
} from '../../src/versions';

const COMPOSE_FILE = path.join(REPO_ROOT, 'docker-compose.yml');
const README_FILE = path.join(REPO_ROOT, 'README.md');

/** The image facts this test relies on, with the file each one comes from. */
interface ImageFacts {
  version: string;
  /** Executables the image provides at these paths. */
  tools: string[];
  /** Directories that exist in the image and belong to the user it runs as (a new named volume mounted there takes that owner). */
  writableDirs: string[];
  /** Where the process keeps its data, from the service's environment. */
  dataPaths: (env: Record<string, string>) => string[];
}

const IMAGES: Record<string, ImageFacts> = {
  // apache/kafka, branch 3.9 and trunk (the 4.x line), docker/jvm/Dockerfile: `apk add ... bash`; the Kafka tarball is
  // unpacked to /opt/kafka (bin/kafka-broker-api-versions.sh is in it); `mkdir -p
  // /var/lib/kafka/data`, `chown appuser:root -R /var/lib/kafka`, `chmod -R ug+w`, `USER appuser`.
  'apache/kafka': {
    version: KAFKA_VERSION,
    tools: ['/bin/bash', '/opt/kafka/bin/kafka-broker-api-versions.sh'],
    writableDirs: ['/var/lib/kafka/data'],
    dataPaths: (env) => {
      const props = kafkaPropertiesFromEnv(env);
      // Kafka's own default when log.dirs is unset (ServerLogConfigs.LOG_DIR_DEFAULT): inside the container.
      const logDirs = (props['log.dirs'] ?? props['log.dir'] ?? '/tmp/kafka-logs').split(',');
      return props['metadata.log.dir'] ? [...logDirs, props['metadata.log.dir']] : logDirs;
    },
  },
  // Apicurio/apicurio-registry, tag 3.0.9, distro/docker/src/main/docker/Dockerfile.jvm:
  // FROM ubi9/openjdk-17-runtime, `chown -R 1001:0 /deployments`, `USER 1001`. Its base
  // (rh-openjdk/redhat-openjdk-containers, ubi9): modules/run/configure.sh creates
  // /deployments/data; the image's command, run-java.sh, starts with #!/bin/bash.
  'apicurio/apicurio-registry': {
    version: APICURIO_VERSION,
    tools: ['/bin/bash'],
    writableDirs: ['/deployments/data'],
    dataPaths: (env) => {
      const url = env.APICURIO_DATASOURCE_URL ?? 'jdbc:h2:mem:';
      const file = /^jdbc:h2:file:([^;]+)/.exec(url)?.[1];
      return file ? [file] : [];
    },
  },
  // docker-library/postgres, 15/bookworm/Dockerfile: PostgreSQL from apt.postgresql.org in
  // /usr/lib/postgresql/15/bin (pg_isready among its client programs); `mkdir -p "$PGDATA" &&
  // chown -R postgres:postgres "$PGDATA"`, PGDATA=/var/lib/postgresql/data, `VOLUME
  // /var/lib/postgresql/data`; docker-entrypoint.sh runs /docker-entrypoint-initdb.d/*.sql once.
  postgres: {
    version: POSTGRES_MAJOR_VERSION,
    tools: [`/usr/lib/postgresql/${POSTGRES_MAJOR_VERSION}/bin/pg_isready`],
    writableDirs: ['/var/lib/postgresql/data'],
    dataPaths: (env) => [env.PGDATA ?? '/var/lib/postgresql/data'],
  },
  // debezium/container-images, connect/3.x/Dockerfile on connect-base/3.x/Dockerfile (Debezium's
  // Kafka image, UBI with microdnf): `ENTRYPOINT ["/docker-entrypoint.sh"]`, a bash script. A
  // Connect worker in distributed mode keeps its state (configs, offsets, status) in Kafka topics:
  // no data of its own.
  'quay.io/debezium/connect': {
    version: DEBEZIUM_VERSION,
    tools: ['/bin/bash'],
    writableDirs: [],
    dataPaths: () => [],
  },
};

/** The registry's HTTP port in the image (Quarkus default; EXPOSE 8080 in Dockerfile.jvm). */
const REGISTRY_CONTAINER_PORT = 8080;

/** Shell builtins a healthcheck script may use besides the image's tools. */
const BASH_BUILTINS = new Set(['exec', 'printf', 'read', '[[', 'test', '[', 'echo', 'exit', 'true', 'false']);

/**
 * KAFKA_* variables -> server.properties, as the image does it (apache/kafka, branch 3.9,
 * core/src/main/scala/kafka/docker/KafkaDockerWrapper.scala, getServerConfigsFromEnv).
 */
const NOT_SERVER_PROPERTIES = new Set([
  'KAFKA_VERSION',
  'KAFKA_HEAP_OPTS',
  'KAFKA_LOG4J_OPTS',
  'KAFKA_OPTS',
  'KAFKA_JMX_OPTS',
  'KAFKA_JVM_PERFORMANCE_OPTS',
  'KAFKA_GC_LOG_OPTS',
  'KAFKA_LOG4J_ROOT_LOGLEVEL',
  'KAFKA_LOG4J_LOGGERS',
  'KAFKA_TOOLS_LOG4J_LOGLEVEL',
  'KAFKA_JMX_HOSTNAME',
]);
function kafkaPropertiesFromEnv(env: Record<string, string>): Record<string, string> {
  const props: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith('KAFKA_') || NOT_SERVER_PROPERTIES.has(key)) continue;
    const name = key
      .replace('KAFKA_', '')
      .toLowerCase()
      .replaceAll('_', '.')
      .replaceAll('...', '-')
      .replaceAll('..', '_');
    props[name] = value;
  }
  return props;
}

/** A Quarkus (SmallRye Config) property as an environment variable: upper case, non-alphanumerics -> "_". */
const quarkusEnvName = (property: string) => property.toUpperCase().replace(/[^A-Z0-9]/g, '_');

const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);
const serviceSchema = z.object({
  image: z.string(),
  command: z.array(z.string()).optional(),
  ports: z.array(z.string()).default([]),
  environment: z.record(scalar).default({}),
  volumes: z.array(z.string()).default([]),
  healthcheck: z.object({ test: z.array(z.string()).min(1), disable: z.boolean().optional() }).optional(),
});
const composeSchema = z.object({
  services: z.record(serviceSchema),
  volumes: z.record(z.unknown().nullable()).default({}),
});
type Service = z.infer<typeof serviceSchema>;

const compose = composeSchema.parse(parse(readFileSync(COMPOSE_FILE, 'utf8')));
const defaults = stackConfig({});

function service(name: string): Service {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
}

function imageOf(s: Service): { repository: string; tag: string; facts: ImageFacts } {
  const [repository = '', tag = ''] = s.image.split(':');
  const facts = IMAGES[repository];
  if (!facts) throw new Error(`no known facts for image ${repository}; add them to IMAGES with their source`);
  return { repository, tag, facts };
}

/** "[ip:]host:container" -> numbers. */
function publishedPorts(s: Service): { ip: string | undefined; host: number; container: number }[] {
  return s.ports.map((p) => {
    const parts = p.split(':');
    const container = Number(parts.pop());
    const host = Number(parts.pop());
    return { ip: parts.pop(), host, container };
  });
}

/** Named-volume mounts "volume:/path[:mode]" (files of the repo, "./path:/path:ro", apart: `fileMounts`). */
function mounts(s: Service): { source: string; target: string }[] {
  return allMounts(s).filter((m) => !m.source.startsWith('./'));
}

function fileMounts(s: Service): { source: string; target: string; mode: string }[] {
  return allMounts(s).filter((m) => m.source.startsWith('./'));
}

function allMounts(s: Service): { source: string; target: string; mode: string }[] {
  return s.volumes.map((v) => {
    const [source = '', target = '', mode = ''] = v.split(':');
    return { source, target, mode };
  });
}

const isUnder = (file: string, dir: string) => {
  const rel = path.posix.relative(dir, file);
  return !rel.startsWith('..') && !path.posix.isAbsolute(rel);
};

/** Splits a shell command list at unquoted &&, ||, ;, | into simple commands. */
function simpleCommands(script: string): string[] {
  const out: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      current += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      current += c;
    } else if ((c === '&' || c === '|') && script[i + 1] === c) {
      out.push(current);
      current = '';
      i++;
    } else if (c === ';' || (c === '|' && script[i - 1] !== '>')) {
      out.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  out.push(current);
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}

/** The programs a script runs: the first word of each command after VAR=value prefixes (`exec cmd` runs cmd). */
function programsOf(script: string): string[] {
  return simpleCommands(script).flatMap((command) => {
    const words = command.split(/\s+/);
    while (words[0] !== undefined && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0])) words.shift();
    const [first, ...rest] = words;
    if (first === 'exec') {
      const target = rest.find((w) => !/^\d*[<>]/.test(w));
      return target ? ['exec', target] : ['exec'];
    }
    return first ? [first] : [];
  });
}

/** The healthcheck as the container runs it ("$$" is compose's escape for "$"). */
function healthcheckArgv(s: Service): string[] {
  return (s.healthcheck?.test ?? []).map((arg) => arg.replaceAll('$$', '$'));
}

describe('docker-compose.yml (static checks; no container engine)', () => {
  const names = Object.keys(compose.services);

  it('has the services of the local stack: broker, registry, and with --source postgres the database and Connect', () => {
    expect([...names].sort()).toEqual(['connect', 'kafka', 'postgres', 'registry']);
  });

  it('postgres: the local stack database, user and server settings; the source table from sql/', () => {
    const pg = service('postgres');
    const source = sourceStackConfig({});
    expect(publishedPorts(pg)).toEqual([{ ip: '127.0.0.1', host: source.postgresPort, container: 5432 }]);
    const settings: Record<string, string> = {};
    const command = pg.command ?? [];
    command.forEach((arg, i) => {
      if (command[i - 1] === '-c') {
        const [k = '', v = ''] = arg.split('=');
        settings[k] = v;
      }
    });
    expect(settings).toEqual(POSTGRES_SERVER_SETTINGS);
    expect(pg.environment).toMatchObject({
      POSTGRES_USER: STACK_DB_USER,
      POSTGRES_PASSWORD: STACK_DB_PASSWORD,
      POSTGRES_DB: STACK_DATABASE,
    });
    const [ddl] = fileMounts(pg);
    expect(path.resolve(REPO_ROOT, ddl!.source)).toBe(SOURCE_TABLE_DDL);
    expect(ddl!.target).toMatch(/^\/docker-entrypoint-initdb\.d\/.*\.sql$/);
    expect(ddl!.mode).toBe('ro');
  });

  it('connect: the worker settings of the local stack (CONNECT_WORKER_SETTINGS) as the image reads them', () => {
    const c = service('connect');
    expect(publishedPorts(c)).toEqual([
      { ip: '127.0.0.1', host: sourceStackConfig({}).connectPort, container: 8083 },
    ]);
    for (const [property, value] of Object.entries(CONNECT_WORKER_SETTINGS)) {
      const name = `CONNECT_${property.toUpperCase().replaceAll('.', '_')}`;
      expect({ [name]: c.environment[name] }).toEqual({ [name]: value });
    }
    const topics = connectTopics(defaults.name);
    expect(c.environment).toMatchObject({
      BOOTSTRAP_SERVERS: 'kafka:29092',
      CONFIG_STORAGE_TOPIC: topics.configs,
      OFFSET_STORAGE_TOPIC: topics.offsets,
      STATUS_STORAGE_TOPIC: topics.status,
    });
  });

  it.each(names)(
    '%s: image tag is the version the local stack fetches (packages/stack/src/versions.ts)',
    (name) => {
      const { tag, facts } = imageOf(service(name));
      expect(tag).toBe(facts.version);
    },
  );

  it('publishes the default ports of `cdc stack up`, on 127.0.0.1 only', () => {
    const kafka = service('kafka');
    const [kafkaPort] = publishedPorts(kafka);
    expect(kafkaPort).toEqual({
      ip: '127.0.0.1',
      host: defaults.kafkaPort,
      container: expect.any(Number) as number,
    });
    const props = kafkaPropertiesFromEnv(kafka.environment);
    // Clients on the host are told to come back to the published port...
    const advertised = (props['advertised.listeners'] ?? '').split(',');
    const hostListener = advertised.find((l) => l.endsWith(`//127.0.0.1:${defaults.kafkaPort}`));
    expect(hostListener).toBeDefined();
    // ...and that listener is the one bound to the container side of it.
    const listenerName = hostListener!.split('://')[0];
    expect((props['listeners'] ?? '').split(',')).toContain(`${listenerName}://:${kafkaPort!.container}`);
    expect(props['controller.quorum.voters']).toBe(`1@kafka:${defaults.controllerPort}`);

    expect(publishedPorts(service('registry'))).toEqual([
      { ip: '127.0.0.1', host: defaults.registryPort, container: REGISTRY_CONTAINER_PORT },
    ]);
  });

  it('README and the compose file point clients at those ports', () => {
    const brokers = `KAFKA_BROKERS=127.0.0.1:${defaults.kafkaPort}`;
    const registry = `SCHEMA_REGISTRY_URL=http://127.0.0.1:${defaults.registryPort}${CCOMPAT_PATH}`;
    const readme = readFileSync(README_FILE, 'utf8');
    const dockerSection = readme.slice(readme.indexOf('### With Docker instead'));
    expect(dockerSection).toContain(brokers);
    expect(dockerSection).toContain(registry);
    const header = readFileSync(COMPOSE_FILE, 'utf8');
    expect(header).toContain(brokers);
    expect(header).toContain(registry);
  });

  it('kafka: the broker settings of `cdc stack up` (KAFKA_BROKER_SETTINGS), as the image turns KAFKA_* into server.properties', () => {
    const props = kafkaPropertiesFromEnv(service('kafka').environment);
    expect(props).toMatchObject(KAFKA_BROKER_SETTINGS);
    // History is kept unless a topic says otherwise.
    expect(props['log.retention.ms']).toBe('-1');
    expect(service('kafka').environment.KAFKA_HEAP_OPTS).toContain(`-Xmx${defaults.kafkaHeapMb}m`);
  });

  it('registry: the storage settings of `cdc stack up` (REGISTRY_STORAGE_SETTINGS), an H2 file', () => {
    const env = service('registry').environment;
    for (const [property, value] of Object.entries(REGISTRY_STORAGE_SETTINGS)) {
      expect({ [quarkusEnvName(property)]: env[quarkusEnvName(property)] }).toEqual({
        [quarkusEnvName(property)]: value,
      });
    }
    const [file] = IMAGES['apicurio/apicurio-registry']!.dataPaths(env);
    expect(file).toBeDefined();
    expect(env.APICURIO_DATASOURCE_URL).toBe(h2DatasourceUrl(file!));
    expect(env.JAVA_OPTS_APPEND).toContain(`-Xmx${defaults.registryHeapMb}m`);
  });

  describe.each(names)('%s', (name) => {
    const s = service(name);
    const { facts } = imageOf(s);

    it('mounts only named volumes declared in the file (a service with data), and files of the repo read-only', () => {
      if (facts.dataPaths(s.environment).length > 0) expect(mounts(s).length).toBeGreaterThan(0);
      else expect(mounts(s)).toEqual([]);
      for (const m of mounts(s)) expect(Object.keys(compose.volumes)).toContain(m.source);
      for (const f of fileMounts(s)) {
        expect(f.mode).toBe('ro');
        expect(() => readFileSync(path.resolve(REPO_ROOT, f.source))).not.toThrow();
      }
    });

    it("mounts each volume on a directory the image's user owns", () => {
      for (const m of mounts(s)) expect(facts.writableDirs).toContain(m.target);
    });

    it('keeps its data in the mounted volumes, and every mount holds data', () => {
      const dataPaths = facts.dataPaths(s.environment);
      for (const p of dataPaths) {
        expect({ dataPath: p, mounted: mounts(s).some((m) => isUnder(p, m.target)) }).toEqual({
          dataPath: p,
          mounted: true,
        });
      }
      for (const m of mounts(s)) {
        expect({ mount: m.target, used: dataPaths.some((p) => isUnder(p, m.target)) }).toEqual({
          mount: m.target,
          used: true,
        });
      }
    });

    it('has a healthcheck that runs only tools the image provides', () => {
      expect(s.healthcheck).toBeDefined();
      expect(s.healthcheck?.disable).not.toBe(true);
      const [form, program, ...args] = healthcheckArgv(s);
      // CMD (not CMD-SHELL): the program is named by its path, nothing is looked up on PATH.
      expect(form).toBe('CMD');
      expect(facts.tools).toContain(program);
      const programs = program === '/bin/bash' && args[0] === '-c' ? programsOf(args[1] ?? '') : [];
      for (const p of programs) expect([...BASH_BUILTINS, ...facts.tools]).toContain(p);
    });

    it('healthcheck probes the port the service listens on, inside the container', () => {
      const script = healthcheckArgv(s).join(' ');
      const [published] = publishedPorts(s);
      expect(script).toMatch(new RegExp(`127\\.0\\.0\\.1[:/]${published!.container}\\b`));
    });

    it('healthcheck takes nothing from the host environment (every "$" escaped as "$$")', () => {
      for (const arg of s.healthcheck?.test ?? []) expect(arg.replaceAll('$$', '')).not.toContain('$');
    });
  });

  it('registry healthcheck asks the API the pipeline uses', () => {
    expect(healthcheckArgv(service('registry')).join(' ')).toContain(`${CCOMPAT_PATH}/subjects`);
  });
});
