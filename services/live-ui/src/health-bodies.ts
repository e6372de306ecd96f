import type { OutageTracker } from '@cdc/core';
import type { DbHandle } from '@cdc/read-model';
import type { GoldState } from './gold-state';
import type { HealthPoller } from './health';
import type { Freshness } from './protocol';

/**
 * What the live UI says about itself and the pipeline (service.ts): the body of `/api/health`
 * (the dashboard's pipeline panel: freshness, the stages' lag, dead letters, errors) and of
 * `/healthz` (ready once gold is read and no outage lasts; the database's availability).
 */
export interface HealthSources {
  epoch: string;
  isReady(): boolean;
  freshness(): Freshness;
  state: GoldState;
  /** The current version of the change log. */
  version(): number;
  clientCount(): number;
  /** The pipeline poller, once started. */
  poller(): HealthPoller | null;
  db: DbHandle;
  outages: OutageTracker;
}

/** `/api/health`. */
export function healthBody(s: HealthSources): Record<string, unknown> {
  const now = Date.now();
  const ready = s.isReady();
  const f = s.freshness();
  return {
    ok: ready,
    ready,
    epoch: s.epoch,
    version: s.version(),
    clients: s.clientCount(),
    movies: s.state.size,
    data_quality_score: s.state.dataQualityScore(),
    last_change_at: f.lastChangeAtMs || null,
    since_last_change_ms: f.lastChangeAtMs ? Math.max(0, now - f.lastChangeAtMs) : null,
    last_event_ts_ms: f.lastEventTsMs || null,
    e2e_lag_ms: f.e2eLagMs,
    ...(s.poller()?.current() ?? {
      stages: [],
      dead_letters: null,
      aggregator_last_batch: null,
      derivation: null,
      errors: [],
    }),
    server_time: now,
  };
}

/** `/healthz`: 200 when ready, else 503, with the same body. */
export function healthzBody(s: HealthSources): { ready: boolean; body: Record<string, unknown> } {
  let dbOk = true;
  try {
    s.db.get();
  } catch {
    dbOk = false;
  }
  const ready = s.isReady();
  const current = s.outages.status();
  return {
    ready: ready && current.length === 0,
    body: {
      ok: ready && current.length === 0,
      gold_ready: ready,
      db_available: dbOk,
      clients: s.clientCount(),
      version: s.version(),
      ...(current.length > 0
        ? { outages: current.map((c) => ({ ...c, since: new Date(c.since).toISOString() })) }
        : {}),
    },
  };
}
