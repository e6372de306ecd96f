/**
 * The aggregator's consumer-group offsets in Kafka. They are for monitoring only (lag, `cdc
 * status`): SQLite holds the offsets the aggregator resumes from, committed with the KPIs. So
 * they are committed in the background, one request at a time, and no batch waits for the round
 * trip: offsets noted while a commit is in flight go out in the next request (the newest per
 * partition). A failed commit is only reported (`onError`): the next one carries newer offsets.
 */
export interface OffsetCommitsOptions {
  /** Commits at most this often unless forced (0: every time). */
  intervalMs: number;
  /** Sends one commit (next offset to read per partition). */
  send(offsets: Map<number, number>): Promise<void>;
  onError(err: unknown): void;
  now?: () => number;
}

export class OffsetCommits {
  private readonly pending = new Map<number, number>();
  private inFlight: Promise<void> | null = null;
  private again = false;
  private lastAt = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;

  constructor(private readonly o: OffsetCommitsOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Remembers a partition's next offset (a newer note replaces an older one). */
  note(partition: number, nextOffset: number): void {
    this.pending.set(partition, nextOffset);
  }

  /**
   * Commits what is pending when due (or `force`), in the background. Resolves once the commit
   * it started or joined is done (for a final commit at shutdown). Never rejects.
   */
  commit(force: boolean): Promise<void> {
    if (this.pending.size === 0 || (!force && this.now() - this.lastAt < this.o.intervalMs)) {
      return this.inFlight ?? Promise.resolve();
    }
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = this.run().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
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
      }
    } while (this.again && this.pending.size > 0);
  }
}
