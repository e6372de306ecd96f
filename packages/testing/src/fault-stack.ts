import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createLogger, loadConnectionConfig, sleep, waitFor, type ConnectionConfig } from '@cdc/core';
import {
  ensureDistributions,
  REPO_ROOT,
  stackConfig,
  stackStatus,
  stackUp,
  type StackConfig,
} from '@cdc/stack';

/**
 * A private broker and registry for tests that stop, pause and restart them: never the shared
 * stack, never the integration stack of the other tests. Both run on free ports under a fresh
 * stack home in the temp folder (the Kafka and Apicurio jars are linked from the usual stack
 * home, `CDC_STACK_HOME` or `.stack/`, fetched there first if missing). Each component can be
 * stopped (SIGTERM, waits for the exit), started again (same data, same port), paused (SIGSTOP:
 * a broker that hangs) and resumed. `cleanup()` resumes and kills both and removes the folder;
 * the end of the test process kills them too, whatever happened.
 */
export interface FaultComponent {
  readonly name: 'kafka' | 'registry';
  pid(): number | undefined;
  /** SIGTERM and wait for the process to exit. */
  stop(): Promise<void>;
  /** Start it again and wait until it answers. */
  start(): Promise<void>;
  /** SIGSTOP: the process holds its sockets and answers nothing. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
}

export interface FaultStack {
  /** Connection settings for this stack (a test adds its own TOPIC_PREFIX). */
  connection: ConnectionConfig;
  env: { KAFKA_BROKERS: string; SCHEMA_REGISTRY_URL: string };
  kafka: FaultComponent;
  registry: FaultComponent;
  config: StackConfig;
  cleanup(): Promise<void>;
}

/**
 * A port nothing listens on: one the OS picks, or with CDC_TEST_FREE_PORTS=<from>-<to> the first
 * free one of that range not handed out before (for machines where each user has a port range).
 */
export async function freePort(): Promise<number> {
  const range = /^(\d+)-(\d+)$/.exec(process.env.CDC_TEST_FREE_PORTS ?? '');
  if (!range) return listenOn(0);
  for (let port = Number(range[1]); port <= Number(range[2]); port++) {
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (
      await listenOn(port).then(
        () => true,
        () => false,
      )
    )
      return port;
  }
  throw new Error(`CDC_TEST_FREE_PORTS=${process.env.CDC_TEST_FREE_PORTS}: no free port left in the range`);
}
const handedOut = new Set<number>();

function listenOn(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as net.AddressInfo;
      server.close(() => resolve(bound));
    });
  });
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const started = new Set<number>();
let exitHook = false;
function killOnExit(pid: number): void {
  started.add(pid);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const p of started) {
      try {
        process.kill(p, 'SIGCONT');
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  });
}

export async function startFaultStack(name = 'fault'): Promise<FaultStack> {
  const logger = createLogger('fault-stack', 'warn');
  const source = process.env.CDC_STACK_HOME ?? path.join(REPO_ROOT, '.stack');
  ensureDistributions(source, logger, process.env.CDC_KAFKA_VERSION);
  const home = mkdtempSync(path.join(os.tmpdir(), 'cdc-fault-'));
  symlinkSync(path.join(source, 'dist'), path.join(home, 'dist'));
  const [kafkaPort, controllerPort, registryPort] = [await freePort(), await freePort(), await freePort()];
  const config = stackConfig({
    CDC_STACK_HOME: home,
    CDC_STACK_NAME: name.toLowerCase().replace(/[^a-z0-9-]/g, '-'),
    CDC_KAFKA_PORT: String(kafkaPort),
    CDC_KAFKA_CONTROLLER_PORT: String(controllerPort),
    CDC_REGISTRY_PORT: String(registryPort),
    CDC_KAFKA_HEAP_MB: '512',
    CDC_REGISTRY_HEAP_MB: '256',
    ...(process.env.CDC_KAFKA_VERSION ? { CDC_KAFKA_VERSION: process.env.CDC_KAFKA_VERSION } : {}),
  });
  const up = async (): Promise<void> => {
    const status = await stackUp(config, logger);
    for (const c of status.components) if (c.pid) killOnExit(c.pid);
  };
  const pidOf = (component: 'kafka' | 'registry'): number | undefined =>
    stackStatus(config).components.find((c) => c.name === component)?.pid;

  const component = (which: 'kafka' | 'registry'): FaultComponent => {
    let lastPid: number | undefined;
    return {
      name: which,
      pid: () => pidOf(which),
      async stop() {
        const pid = pidOf(which);
        if (!pid) return;
        lastPid = pid;
        process.kill(pid, 'SIGCONT');
        process.kill(pid, 'SIGTERM');
        await waitFor(() => !alive(pid), { timeoutMs: 60_000, intervalMs: 100, what: `${which} to exit` });
      },
      start: up,
      pause() {
        const pid = pidOf(which);
        if (pid) process.kill(pid, 'SIGSTOP');
      },
      resume() {
        const pid = pidOf(which) ?? lastPid;
        if (pid && alive(pid)) process.kill(pid, 'SIGCONT');
      },
    };
  };

  try {
    await up();
  } catch (err) {
    await kill(config);
    rmSync(home, { recursive: true, force: true });
    throw err;
  }
  const env = {
    KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
    SCHEMA_REGISTRY_URL: `http://127.0.0.1:${registryPort}/apis/ccompat/v7`,
  };
  return {
    config,
    env,
    connection: loadConnectionConfig({ ...process.env, ...env, TOPIC_PREFIX: '' }),
    kafka: component('kafka'),
    registry: component('registry'),
    async cleanup() {
      await kill(config);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

async function kill(config: StackConfig): Promise<void> {
  for (const c of stackStatus(config).components) {
    if (!c.pid) continue;
    try {
      process.kill(c.pid, 'SIGCONT');
      process.kill(c.pid, 'SIGKILL');
    } catch {
      continue;
    }
    while (alive(c.pid)) await sleep(50);
    started.delete(c.pid);
  }
}
