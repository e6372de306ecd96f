import { captureBatch, cents, decodeDebeziumChange, UndecodableChange } from '@cdc/capture';
import type { KafkaMessage } from '@cdc/core';

const row = (over: Record<string, unknown> = {}) => ({
  booking_id: 'b1',
  customer_id: 'c1',
  movie_id: 'm1',
  booking_date: '2026-12-06T21:02:29.939960Z',
  status: 'BOOKED',
  ticket_count: 2,
  ticket_price: '12.50',
  total_amount: '25.00',
  created_at: '2026-12-07T21:02:29.939Z',
  updated_at: '2026-12-07T21:03:08.660277Z',
  ...over,
});

const event = (
  op: string,
  before: unknown,
  after: unknown,
  lsn = 26465632,
  extra: Record<string, unknown> = {},
) =>
  Buffer.from(
    JSON.stringify({
      before,
      after,
      op,
      ts_ms: 1796677389476,
      source: { lsn, ts_ms: 1796677388688, snapshot: op === 'r' ? 'true' : 'false', ...extra },
    }),
  );

describe('Debezium change → BookingChange', () => {
  test('an insert: the LSN is the version, the source position and the event id', () => {
    const d = decodeDebeziumChange(event('c', null, row()), 'pg');
    expect(d).toEqual({
      kind: 'change',
      change: {
        event_id: 'pg:26465632',
        op: 'c',
        before: null,
        after: {
          booking_id: 'b1',
          customer_id: 'c1',
          movie_id: 'm1',
          booking_date: Date.parse('2026-12-06T21:02:29.939Z'),
          status: 'BOOKED',
          ticket_count: 2,
          ticket_price: 1250,
          created_at: Date.parse('2026-12-07T21:02:29.939Z'),
          updated_at: Date.parse('2026-12-07T21:03:08.660Z'),
          version: 26465632,
        },
        ts_ms: 1796677388688,
        source: { name: 'pg', seq: 26465632 },
      },
    });
  });

  test('an update carries both images; the before image is one version older', () => {
    const d = decodeDebeziumChange(event('u', row(), row({ status: 'CANCELLED' }), 500), 'pg');
    if (d.kind !== 'change') throw new Error('expected a change');
    expect(d.change.before?.version).toBe(499);
    expect(d.change.after?.version).toBe(500);
    expect(d.change.after?.status).toBe('CANCELLED');
  });

  test("a delete's version (before.version + 1) is its LSN", () => {
    const d = decodeDebeziumChange(event('d', row(), null, 900), 'pg');
    if (d.kind !== 'change') throw new Error('expected a change');
    expect(d.change.after).toBeNull();
    expect(d.change.before!.version + 1).toBe(900);
  });

  test('snapshot rows share an LSN: their event ids add the booking id; their version is below every LSN', () => {
    const a = decodeDebeziumChange(event('r', null, row({ booking_id: 'a' }), 700), 'pg');
    const b = decodeDebeziumChange(event('r', null, row({ booking_id: 'b' }), 700), 'pg');
    if (a.kind !== 'change' || b.kind !== 'change') throw new Error('expected changes');
    expect(a.change.event_id).toBe('pg:700:a');
    expect(b.change.event_id).toBe('pg:700:b');
    expect(a.change.after?.version).toBe(1);
  });

  test('a re-delivered change decodes to the same record (the version rule skips it)', () => {
    const v = event('u', row(), row({ ticket_count: 3 }), 1234);
    expect(decodeDebeziumChange(v, 'pg')).toEqual(decodeDebeziumChange(Buffer.from(v), 'pg'));
  });

  test('bad data stays legal: null ids, negative counts and prices, future dates', () => {
    const d = decodeDebeziumChange(
      event(
        'c',
        null,
        row({
          customer_id: null,
          ticket_count: -1,
          ticket_price: '-3.5',
          booking_date: '2099-01-01T00:00:00Z',
        }),
      ),
      'pg',
    );
    if (d.kind !== 'change') throw new Error('expected a change');
    expect(d.change.after).toMatchObject({ customer_id: null, ticket_count: -1, ticket_price: -350 });
  });

  test('TRUNCATE and tombstones are not row changes', () => {
    expect(decodeDebeziumChange(event('t', null, null), 'pg')).toEqual({ kind: 'skip', reason: 'truncate' });
    expect(decodeDebeziumChange(null, 'pg')).toEqual({ kind: 'skip', reason: 'not-a-change' });
  });

  test('an envelope with schemas (schemas.enable=true) is read from its payload', () => {
    const inner = JSON.parse(event('c', null, row()).toString()) as unknown;
    const d = decodeDebeziumChange(Buffer.from(JSON.stringify({ schema: {}, payload: inner })), 'pg');
    expect(d.kind).toBe('change');
  });

  test.each([
    ['not JSON', Buffer.from('{nope')],
    ['an unknown op', event('x', null, row())],
    ['an update without its before image (REPLICA IDENTITY not FULL)', event('u', null, row())],
    ['a price with three decimals', event('c', null, row({ ticket_price: '1.005' }))],
    ['a missing status', event('c', null, row({ status: undefined }))],
    ['no LSN', event('c', null, row(), null as unknown as number)],
  ])('%s is undecodable', (_what, value) => {
    expect(() => decodeDebeziumChange(value, 'pg')).toThrow(UndecodableChange);
  });

  test('exact cents from decimal text', () => {
    expect(cents('15', 'p')).toBe(1500);
    expect(cents('15.5', 'p')).toBe(1550);
    expect(cents('0.07', 'p')).toBe(7);
    expect(cents('-0.00', 'p')).toBe(0);
    expect(cents('99999999.99', 'p')).toBe(9999999999);
  });
});

describe('a batch of Debezium records', () => {
  const message = (offset: string, value: Buffer | null): KafkaMessage => ({
    key: Buffer.from('{"booking_id":"b1"}'),
    value,
    offset,
    timestamp: '1',
    headers: {},
    attributes: 0,
  });

  test('changes → bronze keyed by booking id; undecodable → dead letters with where and why; truncates skipped', () => {
    const out = captureBatch(
      [
        message('0', event('c', null, row())),
        message('1', Buffer.from('garbage')),
        message('2', event('t', null, null)),
      ],
      { topic: 'src', partition: 2 },
      'pg',
      (c) => Buffer.from(c.event_id),
    );
    expect(out.bronze).toEqual([{ key: 'b1', value: Buffer.from('pg:26465632') }]);
    expect(out.skipped).toEqual(['truncate']);
    expect(out.deadLetters).toHaveLength(1);
    expect(out.deadLetters[0]!.value).toEqual(Buffer.from('garbage'));
    expect(out.deadLetters[0]!.headers).toMatchObject({
      'dlq.error.code': 'SCHEMA_MISMATCH',
      'dlq.source.topic': 'src',
      'dlq.source.partition': '2',
      'dlq.source.offset': '1',
    });
  });
});
