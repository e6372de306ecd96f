import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  createKafka,
  createRegistryClient,
  errorMessage,
  parseEnv,
  PLAINTEXT,
  StackError,
  waitFor,
  withAdmin,
  type Env,
  type Logger,
} from '@cdc/core';
import { z } from 'zod';
import { ensureDistributions } from './fetch';
import { formatStorageIfNeeded, kafkaCommand, kafkaFiles, writeKafkaConfig } from './kafka-node';
import { findJava, isPortOpen, readPid, removeFile, spawnDetached, stopPid, tailFile } from './proc';
import { CCOMPAT_PATH, registryCommand, registryFiles } from './registry-node';
import { KAFKA_VERSION, kafkaLine, REPO_ROOT, type KafkaLine } from './versions';

/** Where and how the local stack runs. Read once from the environment by `stackConfig`. */
export interface StackConfig {
  home: string;
  name: string;
  /** The Apache Kafka release the local broker runs (CDC_KAFKA_VERSION, default KAFKA_VERSION). */
  kafkaVersion: string;
  kafkaLine: KafkaLine;
  kafkaPort: number;
  controllerPort: number;
  registryPort: number;
  kafkaHeapMb: number;
  registryHeapMb: number;
  startTimeoutMs: number;
  /** Set when KAFKA_BROKERS and SCHEMA_REGISTRY_URL point elsewhere: nothing is started. */
  external?: { brokers: string; registryUrl: string };
}

const port = z.coerce.number().int().min(1024).max(65535);
export const stackSchema = z.object({
  CDC_STACK_HOME: z
    .string()
    .min(1)
    .default(path.join(REPO_ROOT, '.stack'))
    .describe('directory of the local stack: downloaded jars, data and logs'),
  CDC_STACK_NAME: z
    .string()
    .regex(/^[a-z0-9-]+$/, 'lowercase letters, digits and "-"')
    .default('dev')
    .describe('name of the local stack (several stacks can share CDC_STACK_HOME)'),
  CDC_KAFKA_VERSION: z
    .string()
    .default(KAFKA_VERSION)
    .describe('the Apache Kafka release of the local stack: 3.9.x or 4.x')
    .transform((version, ctx) => {
      const line = kafkaLine(version);
      if (typeof line !== 'string') return { version, line };
      ctx.addIssue({ code: 'custom', message: line });
      return z.NEVER;
    }),
  CDC_KAFKA_PORT: port.default(9092).describe("the local Kafka broker's port"),
  CDC_KAFKA_CONTROLLER_PORT: port
    .optional()
    .describe("the local Kafka controller's port (default: a free port)"),
  CDC_REGISTRY_PORT: port.default(8081).describe("the local schema registry's port"),
  CDC_KAFKA_HEAP_MB: z.coerce
    .number()
    .int()
    .min(256)
    .max(8192)
    .default(1024)
    .describe("the local Kafka broker's Java heap (MiB)"),
  CDC_REGISTRY_HEAP_MB: z.coerce
    .number()
    .int()
    .min(128)
    .max(4096)
    .default(512)
    .describe("the local schema registry's Java heap (MiB)"),
  CDC_STACK_START_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(5000)
    .max(600000)
    .default(120000)
    .describe('how long `cdc stack up` waits for the broker and registry to answer (ms)'),
  KAFKA_BROKERS: z
    .string()
    .optional()
    .describe('Kafka bootstrap brokers, comma-separated host:port (default: the local stack)'),
  SCHEMA_REGISTRY_URL: z
    .string()
    .optional()
    .describe(
      "Confluent-compatible schema registry API, e.g. Apicurio's http://host:8081/apis/ccompat/v7 (default: the local stack)",
    ),
});

export function stackConfig(env: Env = process.env): StackConfig {
  const e = parseEnv(stackSchema, env);
  const external =
    e.KAFKA_BROKERS && e.SCHEMA_REGISTRY_URL
      ? { brokers: e.KAFKA_BROKERS, registryUrl: e.SCHEMA_REGISTRY_URL }
      : undefined;
  return {
    home: e.CDC_STACK_HOME,
    name: e.CDC_STACK_NAME,
    kafkaVersion: e.CDC_KAFKA_VERSION.version,
    kafkaLine: e.CDC_KAFKA_VERSION.line,
    kafkaPort: e.CDC_KAFKA_PORT,
    controllerPort: e.CDC_KAFKA_CONTROLLER_PORT ?? e.CDC_KAFKA_PORT + 1,
    registryPort: e.CDC_REGISTRY_PORT,
    kafkaHeapMb: e.CDC_KAFKA_HEAP_MB,
    registryHeapMb: e.CDC_REGISTRY_HEAP_MB,
    startTimeoutMs: e.CDC_STACK_START_TIMEOUT_MS,
    ...(external ? { external } : {}),
  };
}

export interface ComponentStatus {
  name: 'kafka' | 'registry';
  running: boolean;
  pid?: number;
  address: string;
  logFile: string;
}

export interface StackStatus {
  external: boolean;
  brokers: string;
  registryUrl: string;
  components: ComponentStatus[];
}

const dirOf = (c: StackConfig) => path.join(c.home, c.name);
const brokersOf = (c: StackConfig) => c.external?.brokers ?? `127.0.0.1:${c.kafkaPort}`;
const registryUrlOf = (c: StackConfig) =>
  c.external?.registryUrl ?? `http://127.0.0.1:${c.registryPort}${CCOMPAT_PATH}`;

export function stackStatus(c: StackConfig): StackStatus {
  const dir = dirOf(c);
  const k = kafkaFiles(path.join(dir, 'kafka'));
  const r = registryFiles(path.join(dir, 'registry'));
  const kpid = readPid(k.pidFile);
  const rpid = readPid(r.pidFile);
  return {
    external: c.external !== undefined,
    brokers: brokersOf(c),
    registryUrl: registryUrlOf(c),
    components: c.external
      ? []
      : [
          {
            name: 'kafka',
            running: kpid !== undefined,
            ...(kpid ? { pid: kpid } : {}),
            address: brokersOf(c),
            logFile: k.logFile,
          },
          {
            name: 'registry',
            running: rpid !== undefined,
            ...(rpid ? { pid: rpid } : {}),
            address: registryUrlOf(c),
            logFile: r.logFile,
          },
        ],
  };
}

/** Fetches (once) and starts Kafka and the registry; returns when both answer. A second call is a no-op. */
export async function stackUp(c: StackConfig, logger: Logger): Promise<StackStatus> {
  if (c.external) {
    logger.info(
      { brokers: c.external.brokers, registry: c.external.registryUrl },
      'using the external stack; nothing to start',
    );
    return stackStatus(c);
  }
  const dist = ensureDistributions(c.home, logger, c.kafkaVersion);
  const java = findJava();
  const dir = dirOf(c);
  const kafkaDir = path.join(dir, 'kafka');
  const registryDir = path.join(dir, 'registry');
  mkdirSync(kafkaDir, { recursive: true });
  mkdirSync(path.join(registryDir, 'data'), { recursive: true });
  const k = kafkaFiles(kafkaDir);
  const r = registryFiles(registryDir);

  const startKafka = async () => {
    if (readPid(k.pidFile)) return;
    await assertPortFree(c.kafkaPort, 'Kafka', 'CDC_KAFKA_PORT');
    await assertPortFree(c.controllerPort, 'the Kafka controller', 'CDC_KAFKA_CONTROLLER_PORT');
    const opts = {
      dir: kafkaDir,
      port: c.kafkaPort,
      controllerPort: c.controllerPort,
      heapMb: c.kafkaHeapMb,
      line: c.kafkaLine,
    };
    assertDataReadable(kafkaDir, c);
    writeKafkaConfig(opts);
    formatStorageIfNeeded(java, dist.kafkaLibDir, opts);
    writeFileSync(path.join(kafkaDir, DATA_VERSION_FILE), `${c.kafkaVersion}\n`);
    const [cmd, ...args] = kafkaCommand(java, dist.kafkaLibDir, opts);
    const pid = spawnDetached(cmd!, args, { logFile: k.logFile, pidFile: k.pidFile });
    logger.info({ pid, port: c.kafkaPort, log: k.logFile }, 'starting Kafka');
  };
  const startRegistry = async () => {
    if (readPid(r.pidFile)) return;
    await assertPortFree(c.registryPort, 'the schema registry', 'CDC_REGISTRY_PORT');
    const [cmd, ...args] = registryCommand(java, dist.registryJar, {
      dir: registryDir,
      port: c.registryPort,
      heapMb: c.registryHeapMb,
    });
    const pid = spawnDetached(cmd!, args, { logFile: r.logFile, pidFile: r.pidFile, cwd: registryDir });
    logger.info({ pid, port: c.registryPort, log: r.logFile }, 'starting the schema registry');
  };
  await startKafka();
  await startRegistry();

  const quiet = logger.child({}, { level: 'silent' });
  await Promise.all([
    waitReady('Kafka', k.logFile, k.pidFile, c.startTimeoutMs, async () => {
      const kafka = createKafka(
        { brokers: [brokersOf(c)], clientId: 'cdc-stack', kafkaSecurity: PLAINTEXT },
        quiet,
        {
          retries: 0,
          connectionTimeoutMs: 1000,
        },
      );
      return withAdmin(kafka, async (admin) => (await admin.describeCluster()).brokers.length > 0);
    }),
    waitReady('the schema registry', r.logFile, r.pidFile, c.startTimeoutMs, async () => {
      await createRegistryClient(registryUrlOf(c), { timeoutMs: 1000 }).subjects();
      return true;
    }),
  ]);
  const status = stackStatus(c);
  logger.info({ brokers: status.brokers, registry: status.registryUrl }, 'stack is up');
  return status;
}

/** Stops both processes (SIGTERM, then SIGKILL after a grace period). Data is kept. */
export async function stackDown(c: StackConfig, logger: Logger): Promise<void> {
  if (c.external) {
    logger.info('using an external stack; nothing to stop');
    return;
  }
  const dir = dirOf(c);
  for (const [name, pidFile, graceMs] of [
    ['schema registry', registryFiles(path.join(dir, 'registry')).pidFile, 15000],
    ['Kafka', kafkaFiles(path.join(dir, 'kafka')).pidFile, 30000],
  ] as const) {
    const pid = readPid(pidFile);
    if (pid) {
      const how = await stopPid(pid, graceMs);
      logger.info({ pid, how }, `${name} ${how}`);
    }
    removeFile(pidFile);
  }
}

/** The Kafka version that last ran on a stack's data (a stack without it last ran 3.9.1). */
const DATA_VERSION_FILE = 'kafka-version';

/**
 * Kafka upgrades its data in place (3.9 -> 4.x) but a 3.x broker cannot read what 4.x wrote
 * (a newer metadata version): stop with what to do instead of a broker that exits at start.
 */
function assertDataReadable(kafkaDir: string, c: StackConfig): void {
  if (!existsSync(path.join(kafkaFiles(kafkaDir).dataDir, 'meta.properties'))) return;
  const versionFile = path.join(kafkaDir, DATA_VERSION_FILE);
  const written = existsSync(versionFile) ? readFileSync(versionFile, 'utf8').trim() : '3.9.1';
  const line = kafkaLine(written);
  if (typeof line === 'string' || line.major <= c.kafkaLine.major) return;
  throw new StackError(
    `the stack "${c.name}" holds data written by Kafka ${written}, which Kafka ${c.kafkaVersion} cannot read; ` +
      `run ${c.kafkaVersion} under another name (CDC_STACK_NAME=<name>), or delete ${kafkaDir} to start empty`,
    'CONFIG_INVALID',
  );
}

async function assertPortFree(port: number, what: string, setting: string): Promise<void> {
  if (await isPortOpen(port)) {
    throw new StackError(
      `port ${port} for ${what} is already taken by another process; stop it, or choose another port with ${setting}=<port>`,
      'CONFIG_INVALID',
    );
  }
}

async function waitReady(
  what: string,
  logFile: string,
  pidFile: string,
  timeoutMs: number,
  probe: () => Promise<boolean>,
) {
  let outcome: 'ready' | 'exited';
  try {
    outcome = await waitFor(async () => (readPid(pidFile) ? (await probe()) && 'ready' : 'exited'), {
      timeoutMs,
      intervalMs: 250,
      what: `${what} to answer`,
    });
  } catch (err) {
    const pid = readPid(pidFile);
    if (pid) await stopPid(pid, 5000);
    removeFile(pidFile);
    throw new StackError(
      `${what} did not start: ${errorMessage(err)}\nlog: ${logFile}\n--- last lines ---\n${tailFile(logFile)}`,
    );
  }
  if (outcome === 'exited') {
    removeFile(pidFile);
    throw new StackError(
      `${what} exited during start-up\nlog: ${logFile}\n--- last lines ---\n${tailFile(logFile)}`,
    );
  }
}
