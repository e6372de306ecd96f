import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The live UI's Prometheus metrics (served on GET /metrics with the process defaults). */
export interface LiveUiMetrics {
  clients: Gauge;
  messagesPushed: Counter<'type'>;
  bytesPushed: Counter;
  pushLatency: Histogram;
  eventToPush: Histogram;
  goldRecords: Counter;
  goldDecodeErrors: Counter;
  resumes: Counter<'result'>;
  slowClients: Counter<'action'>;
  rejectedUpgrades: Counter<'reason'>;
  httpRequests: Counter<'route' | 'status'>;
  version: Gauge;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10];

export function createLiveUiMetrics(registry: Registry): LiveUiMetrics {
  const registers = [registry];
  return {
    clients: new Gauge({ name: 'cdc_live_ui_ws_clients', help: 'Connected websocket clients', registers }),
    messagesPushed: new Counter({
      name: 'cdc_live_ui_ws_messages_pushed_total',
      help: 'Websocket messages sent to clients, by type',
      labelNames: ['type'],
      registers,
    }),
    bytesPushed: new Counter({
      name: 'cdc_live_ui_ws_bytes_pushed_total',
      help: 'Bytes sent to websocket clients',
      registers,
    }),
    pushLatency: new Histogram({
      name: 'cdc_live_ui_push_latency_seconds',
      help: 'From a gold record arriving from Kafka to its change batch being written to the clients',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    eventToPush: new Histogram({
      name: 'cdc_live_ui_event_to_push_seconds',
      help: "From the newest change's event time (ts_ms) to its change batch being pushed (end-to-end lag)",
      buckets: [...LATENCY_BUCKETS, 30, 60, 300],
      registers,
    }),
    goldRecords: new Counter({
      name: 'cdc_live_ui_gold_records_total',
      help: 'Gold records read',
      registers,
    }),
    goldDecodeErrors: new Counter({
      name: 'cdc_live_ui_gold_decode_errors_total',
      help: 'Gold records that could not be decoded (skipped)',
      registers,
    }),
    resumes: new Counter({
      name: 'cdc_live_ui_ws_connects_total',
      help: 'Websocket connections by what they received first (snapshot, changes, up-to-date)',
      labelNames: ['result'],
      registers,
    }),
    slowClients: new Counter({
      name: 'cdc_live_ui_ws_slow_client_actions_total',
      help: 'Pushes skipped for clients over the buffer limit (coalesced later), and clients dropped',
      labelNames: ['action'],
      registers,
    }),
    rejectedUpgrades: new Counter({
      name: 'cdc_live_ui_ws_rejected_upgrades_total',
      help: 'Websocket upgrades refused, by reason',
      labelNames: ['reason'],
      registers,
    }),
    httpRequests: new Counter({
      name: 'cdc_live_ui_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'],
      registers,
    }),
    version: new Gauge({
      name: 'cdc_live_ui_protocol_version',
      help: 'Latest change-batch version',
      registers,
    }),
  };
}
