import { loadSchema } from '@cdc/core';
import {
  COUNTER_COLUMNS,
  EVENT_KPIS,
  KPI_DEFINITIONS,
  MOVIE_KPI_COLUMNS,
  RATIO_KPIS,
  ROW_KPIS,
  STATE_COLUMNS,
  checkDefinitions,
  emptyCounters,
  kpiRow,
  ratio,
  ratio2,
  type KpiDefinition,
} from '../../src';

describe('KPI_DEFINITIONS', () => {
  test('name every field of the gold record, in its order, after the key and movie', () => {
    const fields = (JSON.parse(loadSchema('MovieKpis').text) as { fields: { name: string }[] }).fields.map(
      (f) => f.name,
    );
    expect(MOVIE_KPI_COLUMNS).toEqual(['movie_key', ...fields]);
  });

  test('read only columns the stored state keeps', () => {
    for (const d of ROW_KPIS) {
      const read = [
        typeof d.counts === 'object' ? d.counts.field : null,
        'field' in d.measure ? d.measure.field : null,
      ];
      for (const f of read) if (f !== null) expect(STATE_COLUMNS).toContain(f);
    }
  });

  test('counters are every row KPI and event counter, plus the newest event time', () => {
    expect(COUNTER_COLUMNS).toEqual([
      ...KPI_DEFINITIONS.filter((d) => d.kind !== 'ratio').map((d) => d.column),
      'last_event_ts_ms',
    ]);
    expect(ROW_KPIS.length + RATIO_KPIS.length + EVENT_KPIS.length).toBe(KPI_DEFINITIONS.length);
  });

  const bad: [string, KpiDefinition[]][] = [
    [
      'total_bookings is defined twice',
      [
        { kind: 'rows', column: 'total_bookings', counts: 'all', measure: { kind: 'count' } },
        { kind: 'rows', column: 'total_bookings', counts: 'valid', measure: { kind: 'count' } },
      ],
    ],
    [
      'rate: valid is not a row KPI defined before it',
      [{ kind: 'ratio', column: 'rate', of: 'valid', per: 'all', scale: 100, decimals: 2 }],
    ],
    [
      'category value "A\' OR 1" is not a plain upper-case word',
      [
        {
          kind: 'rows',
          column: 'x',
          counts: { field: 'price_category', value: "A' OR 1" },
          measure: { kind: 'count' },
        },
      ],
    ],
  ];
  test.each(bad)('a broken list is refused: %s', (message, list) => {
    expect(() => checkDefinitions(list)).toThrow(message);
  });
});

describe('ratio', () => {
  test('rounds half-up exactly, null on a zero denominator', () => {
    expect(ratio2(1, 3, 100)).toBe(33.33);
    expect(ratio2(2, 3, 100)).toBe(66.67);
    expect(ratio2(201, 20000, 100)).toBe(1.01); // 1.005 exactly: binary floating point would give 1.00
    expect(ratio2(1, 8, 100)).toBe(12.5);
    expect(ratio2(5, 5, 100)).toBe(100);
    expect(ratio2(0, 4, 100)).toBe(0);
    expect(ratio2(1, 0, 100)).toBeNull();
    expect(ratio2(2501, 2, 1)).toBe(1250.5);
    expect(ratio2(1000, 3, 1)).toBe(333.33);
    expect(ratio(2, 3, 100, 0)).toBe(67);
    expect(ratio(1, 3, 1, 3)).toBe(0.333);
  });

  test('kpiRow derives every ratio of the list from the counters', () => {
    const c = emptyCounters('M1');
    Object.assign(c, {
      total_bookings: 7,
      valid_bookings: 6,
      active_bookings: 4,
      cancelled_bookings: 1,
      total_active_revenue_cents: 1001,
    });
    expect(kpiRow(c, 5, 9)).toMatchObject({
      movie_key: 'M1',
      movie_id: 'M1',
      data_quality_score: 85.71,
      cancellation_rate_percent: 16.67,
      active_rate_percent: 66.67,
      avg_revenue_per_active_booking_cents: 250.25,
      updated_at: 5,
      snapshot_version: 9,
    });
    expect(Object.keys(kpiRow(c, 0, 0))).toEqual(MOVIE_KPI_COLUMNS);
  });
});
