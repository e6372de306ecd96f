import { emptyCounts, formatImportSummary, type ImportSummary } from '../../src/import';

const summary = (over: Partial<ImportSummary>): ImportSummary => ({
  status: 'planned',
  input: 'raw_movie_bookings.csv',
  format: 'csv',
  topic: 'movies.booking-changes.v1',
  counts: { ...emptyCounts(), rows: 10, created: 4, updated: 2, unchanged: 3, rejected: 1 },
  acknowledged: 0,
  failed: 0,
  unanswered: 0,
  notSent: 0,
  resumedAfterLine: null,
  startedOverBecause: null,
  bronze: { records: 7, undecodable: 0, bookings: 5, durationMs: 1200 },
  existing: { count: 5, sample: ['B001', 'B002', 'B003', 'B004', 'B005'] },
  ignoredColumns: ['legacy_flag'],
  rejectsFile: 'raw_movie_bookings.rejects.csv',
  progressFile: null,
  durationMs: 2000,
  rowsPerSec: 5,
  ...over,
});

describe('import: the plan and the summary', () => {
  it('a dry run says nothing was sent and what would be: counts, rejects, ids bronze holds, ignored columns', () => {
    const text = formatImportSummary(summary({}));
    expect(text).toContain('dry run: nothing sent');
    expect(text).toMatch(/10 +input rows/);
    expect(text).toMatch(/4 +new bookings/);
    expect(text).toMatch(/2 +changed bookings/);
    expect(text).toMatch(/3 +identical to what bronze holds: skipped/);
    expect(text).toMatch(/1 +rejected: listed in raw_movie_bookings.rejects.csv/);
    expect(text).toMatch(/6 +to send/);
    expect(text).toContain('already in bronze: B001, B002, B003, B004, B005');
    expect(text).toContain('ignored columns: legacy_flag');
    expect(text).not.toMatch(/acknowledged/);
  });

  it('an interrupted import says where its progress is, and never counts unacknowledged records as sent', () => {
    const text = formatImportSummary(
      summary({
        status: 'stopped',
        acknowledged: 5,
        unanswered: 1,
        progressFile: 'raw_movie_bookings.csv.import-progress.json',
        existing: { count: 25, sample: ['B001'] },
      }),
    );
    expect(text).toMatch(/^stopped: /);
    expect(text).toContain('5 acknowledged in this run');
    expect(text).toContain('1 sent but UNANSWERED');
    expect(text).toContain('progress kept in raw_movie_bookings.csv.import-progress.json');
    expect(text).toContain('(25 in all)');
  });
});
