import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError } from '@cdc/core';
import { createDeriver } from '@cdc/bookings';
import { buildScenario, listScenarios, loadScenario } from '../../src';
import { SEED_EVENTS } from '../fixtures/seed-events';

describe('scenarios', () => {
  it("'seed' is exactly the contract's worked example", () => {
    const s = loadScenario('seed');
    expect(s.events.map((e) => e.change)).toEqual(SEED_EVENTS);
    expect(s.events.map((e) => e.kind)).toEqual([
      'create',
      'create',
      'create',
      'create',
      'create',
      'cancel',
      'cancel',
    ]);
  });

  it("'seed' events are valid records, booked at hour 10 on a Wednesday", () => {
    const deriver = createDeriver('UTC');
    for (const { change } of loadScenario('seed').events) {
      const enriched = deriver.change(change);
      for (const img of [enriched.before, enriched.after]) {
        if (!img) continue;
        expect(img.validation_errors).toEqual([]);
        expect(img.booking_hour).toBe(10);
        expect(img.day_of_week).toBe(3);
        expect(img.booking_date_only).toBe('2025-09-03');
      }
    }
  });

  it('lists every scenario file, and each one loads', () => {
    const names = listScenarios().map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['seed', 'edge-cases']));
    for (const name of names) expect(loadScenario(name).events.length).toBeGreaterThan(0);
  });

  it('edge-cases carries each kind of invalid record, a move, a reinstatement and a delete', () => {
    const events = loadScenario('edge-cases').events;
    const deriver = createDeriver('UTC');
    const errors = new Set(
      events.flatMap((e) =>
        e.change.after ? deriver.image(e.change.after, e.change.ts_ms).validation_errors : [],
      ),
    );
    expect([...errors].sort()).toEqual(
      [
        'booking_date_after_change',
        'customer_id_missing',
        'movie_id_missing',
        'ticket_count_not_positive',
        'ticket_price_not_positive',
      ].sort(),
    );
    expect(events.some((e) => e.change.op === 'd')).toBe(true);
    expect(
      events.some((e) => e.change.before?.movie_id === 'M001' && e.change.after?.movie_id === 'M002'),
    ).toBe(true);
  });

  const spec = (steps: unknown[]) => ({ description: 'test', steps });
  const create = (id: string, at?: string) => ({
    op: 'create',
    ...(at ? { at } : {}),
    booking: {
      booking_id: id,
      customer_id: 'C1',
      movie_id: 'M1',
      booking_date: '2025-01-01T00:00:00Z',
      ticket_count: 1,
      ticket_price: 1000,
    },
  });

  it('rejects scripts that break the invariants, naming the step', () => {
    const build = (steps: unknown[]) => () =>
      buildScenario('t', 't.json', spec(steps) as Parameters<typeof buildScenario>[2]);
    expect(build([create('B1', '2025-01-01T00:00:01Z'), { op: 'cancel', booking_id: 'B2' }])).toThrow(
      /step 2 \(cancel\): booking B2 does not exist/,
    );
    expect(build([create('B1', '2025-01-01T00:00:01Z'), create('B1')])).toThrow(/step 2 .*already exists/);
    expect(
      build([
        create('B1', '2025-01-01T00:00:01Z'),
        { op: 'delete', booking_id: 'B1' },
        { op: 'delete', booking_id: 'B1' },
      ]),
    ).toThrow(/step 3 \(delete\)/);
    expect(
      build([
        create('B1', '2025-01-02T00:00:00Z'),
        { op: 'delete', at: '2025-01-01T00:00:00Z', booking_id: 'B1' },
      ]),
    ).toThrow(/back in time/);
    expect(build([create('B1')])).toThrow(/first step needs 'at'/);
  });

  it('validates the file shape with a message naming the field', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'scenarios-'));
    const file = path.join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({ steps: [{ op: 'update', booking_id: 'B1', set: { colour: 'red' } }] }),
    );
    let err: unknown;
    try {
      loadScenario(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('description');
    expect((err as Error).message).toMatch(/steps\.0\.set/);
    expect(() => loadScenario('no-such-scenario')).toThrow(
      /unknown scenario 'no-such-scenario' \(known: .*seed/,
    );
  });
});
