/**
 * A consumer group's offsets committed in the background, at most every `intervalMs`, one
 * request at a time, so no batch waits for the round trip: offsets noted while a commit is in
 * flight go out in the next request (the newest per partition). A failed commit is reported
 * (`onError`) and its offsets are sent again with the next commit, a trailing one if nothing
 * newer comes. For consumers whose committed offsets may lag
 * what they processed: the aggregator's (monitoring only: SQLite holds the offsets it resumes
 * from) and the alerts service's gold reader (re-reading a snapshot is harmless). kafkajs's own
 * auto-commit sends an OffsetCommit after every batch whatever `autoCommitInterval` says (the
 * interval only adds commits inside a batch): one more request per batch.
 */
export interface OffsetCommitsOptions {
  /** Commits at most this often unless forced (0: every time). */
  intervalMs: number;
  /** Sends one commit (next offset to read per partition). */
  send(offsets: Map<number, number>): Promise<void>;
  onError(err: unknown): void;
  now?: () => number;
  /** Runs `fn` after `ms` (tests inject their own); returns a cancel function. */
  setTimer?: (fn: () => void, ms: number) => () => void;
}

/** A failed commit is tried again after at least this long, whatever the interval. */
const RETRY_FLOOR_MS = 1000;

const realTimer = (fn: () => void, ms: number): (() => void) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
};

export class OffsetCommits {
  private readonly pending = new Map<number, number>();
  private inFlight: Promise<void> | null = null;
  private again = false;
  private lastAt = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;
  private cancelTrailing: (() => void) | null = null;

  constructor(private readonly o: OffsetCommitsOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Remembers a partition's next offset (a newer note replaces an older one). */
  note(partition: number, nextOffset: number): void {
    this.pending.set(partition, nextOffset);
  }

  /**
   * Commits what is pending when due (or `force`), in the background. Not due yet, it is sent
   * when the interval has passed (a trailing commit: the last offsets before a quiet spell are
   * committed too, so the group's lag reads 0 once caught up). Resolves once the commit it
   * started or joined is done (for a final commit at shutdown). Never rejects.
   */
  commit(force: boolean): Promise<void> {
    if (this.pending.size === 0) return this.inFlight ?? Promise.resolve();
    const waitMs = this.lastAt + this.o.intervalMs - this.now();
    if (!force && waitMs > 0) {
      this.scheduleTrailing(waitMs);
      return this.inFlight ?? Promise.resolve();
    }
    this.stopTrailing();
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = this.run().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  /** Cancels a trailing commit not sent yet (at shutdown, after the final forced commit). */
  stopTrailing(): void {
    this.cancelTrailing?.();
    this.cancelTrailing = null;
  }

  private async run(): Promise<void> {
    do {
      this.again = false;
      const offsets = new Map(this.pending);
      this.pending.clear();
      this.lastAt = this.now();
      try {
        await this.o.send(offsets);
      } catch (err) {
        this.o.onError(err);
        // Kept for the next attempt (unless newer ones were noted meanwhile): without it, the
        // last offsets before a quiet spell stayed uncommitted when their commit failed (a
        // rebalance under load), and the group's lag read wrong until traffic came back.
        for (const [partition, offset] of offsets) {
          if (!this.pending.has(partition)) this.pending.set(partition, offset);
        }
      }
    } while (this.again && this.pending.size > 0);
    // What is still pending (a failed commit's offsets) goes out with the trailing commit.
    if (this.pending.size > 0) this.scheduleTrailing(Math.max(this.o.intervalMs, RETRY_FLOOR_MS));
  }

  private scheduleTrailing(waitMs: number): void {
    this.cancelTrailing ??= (this.o.setTimer ?? realTimer)(() => {
      this.cancelTrailing = null;
      void this.commit(false);
    }, waitMs);
  }
}
