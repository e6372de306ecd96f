import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { KafkaMessage } from 'kafkajs';
import {
  createControlClient,
  createDecoder,
  createRegistryClient,
  loadSchema,
  testing,
  waitFor,
  type ControlClient,
  type EnrichedBookingChange,
} from '@cdc/core';

/** `node bin/cdc.js …` as a user runs it (from the built dist: `npx tsc -b` first), and what tests read back. */
export const CDC = path.resolve(__dirname, '../../../../bin/cdc.js');

export interface CdcProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

export function spawnCdc(args: string[], env: Record<string, string | undefined>): CdcProcess {
  const child = spawn(process.execPath, [CDC, ...args], {
    env: { ...process.env, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-50_000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Runs a command to its end: exit code and output. */
export async function runCdc(
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawnCdc(args, env);
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

export async function stopProcess(p: CdcProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  return p.exited;
}

export function controlClient(ctx: testing.TestContext): ControlClient {
  return ctx.track(
    createControlClient({
      kafka: ctx.kafka,
      registry: createRegistryClient(ctx.connection.registryUrl),
      topic: ctx.topics.control,
      logger: ctx.logger,
      groupPrefix: `${ctx.connection.topicPrefix}test`,
      maxWaitMs: 100,
    }),
  );
}

/** End offsets of a topic, partition → high watermark. */
export async function endOffsets(ctx: testing.TestContext, topic: string): Promise<Record<number, number>> {
  return Object.fromEntries(
    (await ctx.admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]),
  );
}

/** The consumer groups of this test's prefix (the throw-away readers of the test itself excluded). */
export async function groupsOf(ctx: testing.TestContext): Promise<string[]> {
  const { groups } = await ctx.admin.listGroups();
  return groups
    .map((g) => g.groupId)
    .filter(
      (g) => g.startsWith(ctx.connection.topicPrefix) && !g.startsWith(`${ctx.connection.topicPrefix}test`),
    )
    .sort();
}

/** A whole topic read committed up to its end offsets as of the call. */
export async function readToEnd(ctx: testing.TestContext, topic: string): Promise<KafkaMessage[]> {
  return readToEndWithPartitions(ctx, topic);
}

export async function readToEndWithPartitions(
  ctx: testing.TestContext,
  topic: string,
): Promise<(KafkaMessage & { partition: number })[]> {
  const ends = await endOffsets(ctx, topic);
  const positions = new Map<number, number>();
  const messages: (KafkaMessage & { partition: number })[] = [];
  const consumer = ctx.kafka.consumer({ groupId: testing.uniqueGroupId('read'), maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) =>
      positions.set(payload.partition, Number(payload.lastOffset) + 1),
    );
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        messages.push({ ...message, partition });
      },
    });
    await waitFor(
      () => Object.entries(ends).every(([p, end]) => end === 0 || (positions.get(Number(p)) ?? 0) >= end),
      {
        timeoutMs: 60_000,
        what: `reading ${topic} to its end`,
      },
    );
    return messages;
  } finally {
    await consumer.disconnect();
  }
}

export async function readSilver(ctx: testing.TestContext): Promise<EnrichedBookingChange[]> {
  const decoder = createDecoder<EnrichedBookingChange>(
    createRegistryClient(ctx.connection.registryUrl),
    loadSchema('EnrichedBookingChange').type,
  );
  const out: EnrichedBookingChange[] = [];
  for (const m of await readToEnd(ctx, ctx.topics.silver)) out.push(await decoder.decode(m.value));
  return out;
}
