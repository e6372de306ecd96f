import { CdcError } from '@cdc/core';
import type { MovieRow } from './gold-state';

/**
 * The websocket protocol's versions. Every push window that changed something becomes one change
 * batch with the next version (versions are consecutive: batch v follows v - 1). A bounded log of
 * recent batches lets a client that reconnects with `?since=<v>&epoch=<e>` receive exactly what
 * it missed, merged into one batch; when `v` is older than the log (or from another server run,
 * i.e. another epoch), it gets a fresh snapshot instead. Pure: no I/O.
 */
export interface ChangeBatch {
  /** The version this batch applies on top of (exclusive). */
  from: number;
  version: number;
  movies: MovieRow[];
  removed: string[];
  maxEventTsMs: number;
}

export type ResumePlan =
  | { kind: 'snapshot'; reason: 'new' | 'other-epoch' | 'too-old' | 'ahead' }
  | { kind: 'up-to-date' }
  | { kind: 'changes'; batch: ChangeBatch };

export class VersionLog {
  private readonly batches: ChangeBatch[] = [];
  private entries = 0;
  private head = 0;
  /** The log holds every batch with a version above `floor`. */
  private floorVersion: number;
  private current: number;

  constructor(
    private readonly maxBatches: number,
    private readonly maxEntries: number,
    initialVersion = 0,
  ) {
    if (maxBatches < 1 || maxEntries < 1)
      throw new CdcError('INTERNAL', 'version log: bounds must be at least 1');
    this.floorVersion = initialVersion;
    this.current = initialVersion;
  }

  get version(): number {
    return this.current;
  }

  get floor(): number {
    return this.floorVersion;
  }

  get length(): number {
    return this.batches.length - this.head;
  }

  /** Records the next batch and returns it; evicts the oldest batches beyond the bounds. */
  append(changes: Omit<ChangeBatch, 'from' | 'version'>): ChangeBatch {
    const batch: ChangeBatch = { ...changes, from: this.current, version: this.current + 1 };
    this.current = batch.version;
    this.batches.push(batch);
    this.entries += batch.movies.length + batch.removed.length;
    while (this.length > this.maxBatches || (this.entries > this.maxEntries && this.length > 1)) {
      const old = this.batches[this.head]!;
      this.head += 1;
      this.entries -= old.movies.length + old.removed.length;
      this.floorVersion = old.version;
    }
    if (this.head > 1024 && this.head * 2 > this.batches.length) {
      this.batches.splice(0, this.head);
      this.head = 0;
    }
    return batch;
  }

  /** Everything after version `since`, merged into one batch (the newest snapshot per movie). */
  since(since: number): ChangeBatch | null {
    if (since < this.floorVersion || since > this.current) return null;
    const movies = new Map<string, MovieRow>();
    const removed = new Set<string>();
    let maxEventTsMs = 0;
    const start = this.head + (since - this.floorVersion);
    for (let i = start; i < this.batches.length; i += 1) {
      const b = this.batches[i]!;
      for (const m of b.movies) {
        movies.set(m.movie_key, m);
        removed.delete(m.movie_key);
      }
      for (const k of b.removed) {
        movies.delete(k);
        removed.add(k);
      }
      if (b.maxEventTsMs > maxEventTsMs) maxEventTsMs = b.maxEventTsMs;
    }
    return {
      from: since,
      version: this.current,
      movies: [...movies.values()],
      removed: [...removed],
      maxEventTsMs,
    };
  }

  /** What a (re)connecting client gets, given its `since`/`epoch` and this server's epoch. */
  plan(request: { since?: number; epoch?: string }, epoch: string): ResumePlan {
    if (request.since === undefined) return { kind: 'snapshot', reason: 'new' };
    if (request.epoch !== epoch) return { kind: 'snapshot', reason: 'other-epoch' };
    if (request.since > this.current) return { kind: 'snapshot', reason: 'ahead' };
    if (request.since === this.current) return { kind: 'up-to-date' };
    const batch = this.since(request.since);
    return batch ? { kind: 'changes', batch } : { kind: 'snapshot', reason: 'too-old' };
  }
}
