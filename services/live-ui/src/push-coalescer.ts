import type { GoldState } from './gold-state';
import type { LiveUiMetrics } from './metrics';
import type { ChangeBatch, VersionLog } from './version-log';

/**
 * The live UI's push timing (service.ts): gold changes gathered in GoldState become one change
 * batch (the next version of the VersionLog) pushed to every websocket client, at most one push
 * per `coalesceMs`. The first change after a quiet period goes at once (after the Kafka batch
 * that brought it), later ones wait for the window to end. Nothing is pushed before the gold
 * topic has been read to its end (`isReady`).
 */
export interface PushCoalescerOptions {
  coalesceMs: number;
  state: GoldState;
  log: VersionLog;
  metrics: LiveUiMetrics;
  isReady(): boolean;
  /** Pushes a batch to the clients (the websocket hub). */
  publish(batch: ChangeBatch): void;
}

export class PushCoalescer {
  private timer: NodeJS.Timeout | null = null;
  private lastFlushAtMs = 0;
  /** From the newest pushed change's event time to its push (ms); null before the first push. */
  lastPushLagMs: number | null = null;

  constructor(private readonly o: PushCoalescerOptions) {}

  /** A push soon: now if the window has passed, else at its end. */
  schedule(): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(
      () => this.flush(),
      Math.max(0, this.lastFlushAtMs + this.o.coalesceMs - Date.now()),
    );
  }

  /** Cancels a scheduled push (stopping). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  private flush(): void {
    const { state, metrics } = this.o;
    this.timer = null;
    this.lastFlushAtMs = Date.now();
    if (!this.o.isReady() || !state.hasPending) return;
    const p = state.takePending();
    if (p.movies.length === 0 && p.removed.length === 0) return;
    const batch = this.o.log.append({ movies: p.movies, removed: p.removed, maxEventTsMs: p.maxEventTsMs });
    const now = Date.now();
    if (p.maxEventTsMs > 0) {
      this.lastPushLagMs = now - p.maxEventTsMs;
      metrics.eventToPush.observe(this.lastPushLagMs / 1000);
    }
    this.o.publish(batch);
    metrics.pushLatency.observe((Date.now() - p.firstReceivedAtMs) / 1000);
    metrics.version.set(batch.version);
  }
}
