import type { Command } from 'commander';
import {
  CdcError,
  createDecoder,
  createIdempotentProducer,
  createKafka,
  createRegistryClient,
  errorMessage,
  filterDeadLetters,
  loadSchema,
  parsePosition,
  positionOf,
  readDeadLetters,
  parseTimestamp,
  topicNames,
  UsageError,
  withAdmin,
  type BookingChange,
  type DeadLetterEntry,
  type DeadLetterFilter,
} from '@cdc/core';
import { planReplay, readReplayed, replayMessage, replaysSince } from '@cdc/enricher';
import { commandContext, type CommandContext } from '../context';
import { run } from '../run';

/**
 * `cdc dlq list | show | replay`: the dead-letter topic without raw Kafka tools. Reading and
 * planning live in the enricher (src/dlq.ts), which writes the dead letters; this is the edge.
 */
interface FilterOptions {
  code: string[];
  since?: string;
  until?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [
  ...previous,
  ...value.split(',').filter(Boolean),
];
const iso = (ms: number): string => (Number.isFinite(ms) ? new Date(ms).toISOString() : '-');

function toFilter(o: FilterOptions, positions: string[] = []): DeadLetterFilter {
  return {
    codes: o.code,
    sinceMs: o.since === undefined ? undefined : parseTimestamp('--since', o.since),
    untilMs: o.until === undefined ? undefined : parseTimestamp('--until', o.until),
    positions: positions.map(parsePosition),
  };
}

function withFilters(cmd: Command): Command {
  return cmd
    .option(
      '--code <code>',
      'only these error codes (repeatable or comma-separated), e.g. UNKNOWN_SCHEMA_ID',
      collect,
      [],
    )
    .option('--since <time>', 'only dead letters written at or after this time (ISO 8601)')
    .option('--until <time>', 'only dead letters written before this time (ISO 8601)')
    .option('--json', 'print JSON');
}

/** The dead letters `narrow` may select (see readDeadLetters). */
async function deadLetters(
  ctx: CommandContext,
  narrow?: Pick<DeadLetterFilter, 'sinceMs' | 'positions'>,
): Promise<DeadLetterEntry[]> {
  const topic = topicNames(ctx.connection.topicPrefix).deadLetter;
  const kafka = createKafka(ctx.connection, ctx.logger, {
    connectionTimeoutMs: 3000,
    retries: 2,
  });
  return withAdmin(kafka, async (admin) => {
    if (!(await admin.listTopics()).includes(topic)) return [];
    return readDeadLetters({
      kafka,
      admin,
      topic,
      groupPrefix: `${ctx.connection.topicPrefix}cdc-dlq`,
      narrow,
    });
  });
}

const summaryOf = (e: DeadLetterEntry) => ({
  position: positionOf(e),
  time: iso(e.timestampMs),
  source: `${e.source.topic} ${e.source.partition}/${e.source.offset}`,
  errorCode: e.errorCode,
  errorMessage: e.errorMessage,
  size: e.size,
  key: e.key,
  replayOf: e.replayOf,
});

function formatList(entries: DeadLetterEntry[]): string {
  if (entries.length === 0) return 'no dead letters\n';
  const lines = [
    `${'dead letter'.padEnd(12)} ${'time'.padEnd(24)} ${'source p/offset'.padEnd(16)} ${'size'.padStart(7)}  ${'code'.padEnd(18)} message`,
  ];
  for (const e of entries) {
    const replay = e.replayOf === null ? '' : ` (replay of ${e.replayOf} failed again)`;
    lines.push(
      `${positionOf(e).padEnd(12)} ${iso(e.timestampMs).padEnd(24)} ${`${e.source.partition}/${e.source.offset}`.padEnd(16)} ${String(e.size).padStart(7)}  ${e.errorCode.padEnd(18)} ${e.errorMessage}${replay}`,
    );
  }
  lines.push(`${entries.length} dead letter(s)`);
  return `${lines.join('\n')}\n`;
}

function hexDump(buf: Buffer): string {
  const rows: string[] = [];
  for (let i = 0; i < buf.length; i += 16) {
    const chunk = buf.subarray(i, i + 16);
    const hex = [...chunk].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...chunk].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    rows.push(`  ${i.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  return rows.join('\n');
}

export function registerDlqCommands(program: Command): void {
  const dlq = program
    .command('dlq')
    .description(
      'the dead-letter topic: list dead letters, show one, replay them to bronze once their cause is removed',
    );

  withFilters(
    dlq
      .command('list')
      .description('dead letters: time, source partition/offset, size, error code and message'),
  )
    .allowExcessArguments(false)
    .action((opts: FilterOptions) =>
      run(async () => {
        const filter = toFilter(opts);
        const entries = filterDeadLetters(await deadLetters(commandContext('dlq'), filter), filter);
        process.stdout.write(opts.json ? `${JSON.stringify(entries.map(summaryOf))}\n` : formatList(entries));
      }),
    );

  dlq
    .command('show')
    .argument(
      '<position>',
      'the dead letter: <partition>/<offset> as `cdc dlq list` prints it (or <offset> on partition 0)',
    )
    .description(
      'one dead letter: its headers, the original bytes in hex, and what they decode to now, if anything',
    )
    .option('--json', 'print JSON (the value as base64)')
    .action((position: string, opts: { json?: boolean }) =>
      run(async () => {
        const wanted = parsePosition(position);
        const ctx = commandContext('dlq');
        const entry = (await deadLetters(ctx, { positions: [wanted] })).find((e) => positionOf(e) === wanted);
        if (entry === undefined) throw new UsageError(`no dead letter at ${wanted}`);
        let decoded: string;
        try {
          const decoder = createDecoder<BookingChange>(
            createRegistryClient(ctx.connection),
            loadSchema('BookingChange').type,
          );
          decoded = JSON.stringify(await decoder.decode(entry.value), null, 2);
        } catch (err) {
          decoded = `does not decode: ${errorMessage(err)}`;
        }
        if (opts.json) {
          process.stdout.write(
            `${JSON.stringify({ ...summaryOf(entry), headers: entry.headers, value: entry.value?.toString('base64') ?? null, decoded })}\n`,
          );
          return;
        }
        const v = entry.value ?? Buffer.alloc(0);
        const frame =
          v.length >= 5 && v[0] === 0
            ? `magic byte 0, schema id ${v.readInt32BE(1)}`
            : 'not a Confluent frame';
        process.stdout.write(
          [
            `dead letter ${positionOf(entry)} at ${iso(entry.timestampMs)}`,
            `  error:   ${entry.errorCode}: ${entry.errorMessage}`,
            `  source:  ${entry.source.topic} partition ${entry.source.partition} offset ${entry.source.offset}`,
            `  key:     ${entry.key ?? '(null)'}`,
            `  value:   ${entry.size} bytes${entry.truncated ? ` (cut to ${v.length} to fit the topic)` : ''}; ${frame}`,
            '  headers:',
            ...Object.entries(entry.headers).map(([k, val]) => `    ${k}: ${val}`),
            '  bytes:',
            hexDump(v),
            `  decoded now: ${decoded}`,
            '',
          ].join('\n'),
        );
      }),
    );

  withFilters(
    dlq
      .command('replay')
      .argument('[positions...]', 'only these dead letters (<partition>/<offset>)')
      .description(
        're-send the original bytes of dead letters to bronze, each with a header naming its dead letter ' +
          '(dlq.replay.of): records that decode now flow on, the others are dead-lettered again. ' +
          'Shows the plan; --execute sends. Dead letters already replayed are skipped unless --force',
      ),
  )
    .option('--execute', 're-send the planned dead letters (default: only print the plan)')
    .option(
      '--force',
      're-send dead letters that were already replayed (the version rule keeps KPIs from double counting)',
    )
    .action((positions: string[], opts: FilterOptions & { execute?: boolean; force?: boolean }) =>
      run(async () => {
        const filter = toFilter(opts, positions);
        const ctx = commandContext('dlq');
        const names = topicNames(ctx.connection.topicPrefix);
        const kafka = createKafka(ctx.connection, ctx.logger, {
          connectionTimeoutMs: 3000,
          retries: 2,
        });
        const groupPrefix = `${ctx.connection.topicPrefix}cdc-dlq`;
        const plan = await withAdmin(kafka, async (admin) => {
          const topics = await admin.listTopics();
          if (!topics.includes(names.deadLetter)) return planReplay([], new Set(), { force: false });
          const selected = filterDeadLetters(
            await readDeadLetters({ kafka, admin, topic: names.deadLetter, groupPrefix, narrow: filter }),
            filter,
          );
          // Only what could be replayed needs looking up, and only in bronze's records since then.
          const sinceMs = replaysSince(planReplay(selected, new Set(), { force: false }).replay);
          const replayed =
            topics.includes(names.bronze) && sinceMs !== null
              ? await readReplayed({ kafka, admin, topic: names.bronze, groupPrefix, sinceMs })
              : new Set<string>();
          return planReplay(selected, replayed, { force: opts.force === true });
        });
        let sent = 0;
        if (opts.execute && plan.replay.length > 0) {
          const producer = createIdempotentProducer(kafka);
          await producer.connect();
          try {
            await producer.send({ topic: names.bronze, acks: -1, messages: plan.replay.map(replayMessage) });
            sent = plan.replay.length;
          } catch (err) {
            throw new CdcError(
              'DEPENDENCY_FAILED',
              `dlq replay: sending to ${names.bronze} failed: ${errorMessage(err)}`,
              {
                cause: err,
              },
            );
          } finally {
            await producer.disconnect();
          }
        }
        if (opts.json) {
          const ids = (l: DeadLetterEntry[]) => l.map(positionOf);
          process.stdout.write(
            `${JSON.stringify({
              executed: opts.execute === true,
              replay: ids(plan.replay),
              alreadyReplayed: ids(plan.alreadyReplayed),
              repeats: ids(plan.repeats),
              truncated: ids(plan.truncated),
              sent,
            })}\n`,
          );
          return;
        }
        const out = [
          opts.execute
            ? `replayed ${sent} dead letter(s) to ${names.bronze}`
            : `plan (nothing sent; --execute sends):`,
          `  ${String(plan.replay.length).padStart(6)}  to replay${plan.replay.length > 0 ? `: ${plan.replay.map(positionOf).join(', ')}` : ''}`,
          `  ${String(plan.alreadyReplayed.length).padStart(6)}  already replayed: skipped (--force to re-send)`,
          `  ${String(plan.repeats.length).padStart(6)}  failed replays of other dead letters: skipped (replay the original)`,
          `  ${String(plan.truncated.length).padStart(6)}  cut to fit the dead-letter topic: cannot be replayed`,
        ];
        process.stdout.write(`${out.join('\n')}\n`);
      }),
    );
}
