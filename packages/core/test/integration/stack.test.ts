import {
  createDecoder,
  createEncoder,
  createRegistryClient,
  loadSchema,
  RegistryError,
  valueSubject,
  type BookingChange,
} from '../../src';
import { createTestContext, randomSuffix, readUntil, type TestContext } from '@cdc/testing';
import { sampleChange } from '../fixtures/changes';

describe('the real broker and registry', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await createTestContext({ name: 'core' });
  });
  afterEach(() => ctx.cleanup());

  it('registers the schema and round-trips a BookingChange through Kafka', async () => {
    const registry = createRegistryClient(ctx.connection.registryUrl);
    const { text, type } = loadSchema('BookingChange');
    const encoder = await createEncoder<BookingChange>(registry, valueSubject(ctx.topics.bronze), text, type);
    const producer = ctx.track(ctx.kafka.producer({ idempotent: true }));
    await producer.connect();
    await producer.send({
      topic: ctx.topics.bronze,
      acks: -1,
      messages: [{ key: 'B001', value: encoder.encode(sampleChange) }],
    });

    const [message] = await readUntil(ctx, ctx.topics.bronze, (m) => m.length >= 1);
    const decoded = await createDecoder<BookingChange>(registry, type).decode(message!.value);
    expect(decoded).toEqual(sampleChange);
    expect(message!.key?.toString()).toBe('B001');
    expect(message!.value!.readUInt32BE(1)).toBe(encoder.schemaId);
  });

  it('shows a committed transaction to a read-committed consumer and hides an aborted one', async () => {
    const producer = ctx.track(
      ctx.kafka.producer({
        transactionalId: `tx-${randomSuffix()}`,
        idempotent: true,
        maxInFlightRequests: 1,
      }),
    );
    await producer.connect();
    const aborted = await producer.transaction();
    await aborted.send({ topic: ctx.topics.bronze, messages: [{ key: 'k', value: 'aborted' }] });
    await aborted.abort();
    const committed = await producer.transaction();
    await committed.send({ topic: ctx.topics.bronze, messages: [{ key: 'k', value: 'committed' }] });
    await committed.commit();

    const seen = await readUntil(
      ctx,
      ctx.topics.bronze,
      (m) => m.some((x) => x.value?.toString() === 'committed'),
      {
        isolation: 'read_committed',
      },
    );
    expect(seen.map((m) => m.value?.toString())).toEqual(['committed']);
    const raw = await readUntil(ctx, ctx.topics.bronze, (m) => m.length >= 2, {
      isolation: 'read_uncommitted',
    });
    expect(raw.map((m) => m.value?.toString())).toEqual(['aborted', 'committed']);
  });

  it('rejects an incompatible schema version with HTTP 409 under BACKWARD, and nothing is produced', async () => {
    const registry = createRegistryClient(ctx.connection.registryUrl);
    const subject = valueSubject(ctx.topics.bronze);
    const { text, type } = loadSchema('BookingChange');
    // Encoders never set levels (`cdc schemas register` does): set it here as that command would.
    await registry.setCompatibility(subject, 'BACKWARD');
    await createEncoder(registry, subject, text, type);
    const config = await fetch(`${registry.baseUrl}/config/${subject}`);
    expect(await config.json()).toEqual({ compatibilityLevel: 'BACKWARD' });
    const incompatible = JSON.parse(text) as { fields: { name: string; type: unknown; default?: unknown }[] };
    incompatible.fields.push({ name: 'required_without_default', type: 'string' });

    const attempt = createEncoder(registry, subject, JSON.stringify(incompatible), type);
    await expect(attempt).rejects.toBeInstanceOf(RegistryError);
    await expect(attempt).rejects.toMatchObject({ status: 409, code: 'SCHEMA_INCOMPATIBLE' });
    const offsets = await ctx.admin.fetchTopicOffsets(ctx.topics.bronze);
    expect(offsets.every((p) => p.high === '0')).toBe(true);
  });
});
