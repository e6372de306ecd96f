import { enrichImage } from '@cdc/testing';
import {
  ROW_KPIS,
  emptyMovieState,
  evaluateKpis,
  storedFromImage,
  type RowKpi,
  type TouchedMovie,
} from '@cdc/read-model';
import { buildContribution } from '../../src';

/**
 * The contribution generated from the KPI definitions (kpi.ts): a row KPI added to the list is
 * counted with no code of its own, retraction undoes it, and definitions the generator cannot
 * honour are refused when it is built.
 */
const TS = Date.UTC(2025, 8, 10);
const row = (status: string, ticket_count: number) =>
  storedFromImage(
    enrichImage(
      {
        booking_id: `B-${status}-${ticket_count}`,
        customer_id: 'C1',
        movie_id: 'M1',
        booking_date: Date.UTC(2025, 8, 3, 10),
        status,
        ticket_count,
        ticket_price: 1500,
        created_at: 0,
        updated_at: 0,
        version: 1,
      },
      TS,
    ),
    1,
    0,
    0,
    'e',
    TS,
  );
const touched = (): TouchedMovie => ({
  state: emptyMovieState('M1'),
  dirtyDays: new Set(),
  dirtyHours: new Set(),
});

test('a new row KPI is one entry of the list: counted, retracted, as the definitions say', () => {
  const extra: RowKpi[] = [
    {
      kind: 'rows',
      column: 'unknown_status_bookings',
      counts: { field: 'booking_status_category', value: 'UNKNOWN' },
      measure: { kind: 'count' },
    },
    {
      kind: 'rows',
      column: 'active_tickets',
      counts: { field: 'booking_status_category', value: 'ACTIVE' },
      measure: { kind: 'sum', field: 'ticket_count' },
    },
  ];
  const contribute = buildContribution([...ROW_KPIS, ...extra]);
  const rows = [row('PENDING', 2), row('BOOKED', 3), row('BOOKED', 4), row('CANCELLED', 1)];
  const m = touched();
  // Their columns, as the list would give them (COUNTER_COLUMNS).
  const c = m.state.counters as unknown as Record<string, number>;
  for (const d of extra) c[d.column] = 0;
  for (const r of rows) contribute(m, r, 1);
  expect([c.unknown_status_bookings, c.active_tickets]).toEqual([1, 7]);
  const expected = evaluateKpis(rows) as Record<string, number | null>;
  for (const d of ROW_KPIS) expect([d.column, c[d.column]]).toEqual([d.column, expected[d.column]]);
  for (const r of rows) contribute(m, r, -1);
  for (const d of [...ROW_KPIS, ...extra]) expect([d.column, c[d.column]]).toEqual([d.column, 0]);
  expect([...m.state.days.values(), ...m.state.hours.values()].every((n) => n === 0)).toBe(true);
});

test('definitions the generator cannot honour are refused', () => {
  const distinct = (column: string, counts: RowKpi['counts']): RowKpi => ({
    kind: 'rows',
    column,
    counts,
    measure: { kind: 'distinct', field: 'booking_hour' },
  });
  expect(() => buildContribution([distinct('a', 'valid'), distinct('b', 'valid')])).toThrow(
    /counted distinct twice/,
  );
  expect(() => buildContribution([distinct('a', 'all')])).toThrow(/counts the valid rows only/);
  expect(() => buildContribution([{ ...distinct('a', 'valid'), column: 'a; process.exit()' }])).toThrow(
    /not a plain column/,
  );
});
