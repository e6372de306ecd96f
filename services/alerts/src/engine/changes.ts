import { NO_MOVIE_KEY } from '@cdc/core';
import type { Rule } from '../rules/types';
import type { AlertState } from './lifecycle';
import { PIPELINE } from './state';

/**
 * What changed since the engine's last evaluation, and so which subjects a rule must judge again
 * (engine.ts, `evaluateChanged`): the movies whose snapshots came, whether the dead letters or
 * the pipeline's facts changed, and the event-time bucket the rate rules were last judged in.
 * Everything is judged first (`all`). Pure bookkeeping: the engine passes in what it knows.
 */

/** What one evaluation judges: every subject, or these (the others' verdicts cannot have changed). */
export type Scope = 'all' | Set<string>;

export class ChangeTracker {
  private all = true;
  private readonly touched = new Set<string>();
  private deadLetters = false;
  private stale = false;
  private judgedBucket: number | null = null;

  /** The next evaluation judges every subject. */
  judgeAll(): void {
    this.all = true;
  }

  /** A movie's snapshot was counted. */
  movieChanged(key: string): void {
    this.touched.add(key);
  }

  /** The dead letters' count or window changed. */
  deadLettersChanged(): void {
    this.deadLetters = true;
  }

  /** The pipeline's lag or freshness changed. */
  staleChanged(): void {
    this.stale = true;
  }

  /**
   * The subjects `rule` must judge in event-time `bucket`: those whose inputs came, those that
   * change with time alone, and the subjects of its pending and clearing alerts.
   */
  scope(rule: Rule, bucket: number, deadLettersInWindow: boolean, alerts: Iterable<AlertState>): Scope {
    if (this.all) return 'all';
    const subjects = new Set<string>();
    const moviesAndPipeline = (kinds: readonly string[]): void => {
      if (kinds.includes('movies')) for (const m of this.touched) if (m !== NO_MOVIE_KEY) subjects.add(m);
      if (kinds.includes('pipeline') && this.touched.size > 0) subjects.add(PIPELINE);
    };
    switch (rule.type) {
      case 'cancellation_spike':
      case 'booking_surge':
      case 'booking_drop':
        if (bucket !== this.judgedBucket) return 'all';
        moviesAndPipeline(rule.subjects);
        break;
      case 'data_quality_low':
        moviesAndPipeline(rule.subjects);
        break;
      case 'dead_letters':
        if (this.deadLetters || deadLettersInWindow) subjects.add(PIPELINE);
        break;
      case 'pipeline_stale':
        if (this.stale) subjects.add(PIPELINE);
        break;
    }
    for (const a of alerts) {
      if (a.rule === rule.name && (a.phase === 'pending' || a.clearSince !== null)) subjects.add(a.subject);
    }
    return subjects;
  }

  /** An evaluation in `bucket` is done: nothing has changed since. */
  judged(bucket: number): void {
    this.all = false;
    this.touched.clear();
    this.deadLetters = false;
    this.stale = false;
    this.judgedBucket = bucket;
  }
}
