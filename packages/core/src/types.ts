/**
 * TypeScript shapes of the Avro records in `schemas/` (a unit test checks they list the same
 * fields). Timestamps are epoch milliseconds; money is integer cents.
 */
export type Op = 'c' | 'u' | 'd' | 'r';

export interface Booking {
  booking_id: string;
  customer_id: string | null;
  movie_id: string | null;
  booking_date: number;
  status: string;
  ticket_count: number;
  ticket_price: number;
  created_at: number;
  updated_at: number;
  version: number;
}

export interface Source {
  name: string;
  seq: number;
}

export interface BookingChange {
  event_id: string;
  op: Op;
  before: Booking | null;
  after: Booking | null;
  ts_ms: number;
  source: Source;
}

export type StatusCategory = 'ACTIVE' | 'INACTIVE' | 'UNKNOWN';
export type SizeCategory = 'SINGLE' | 'GROUP' | 'LARGE_GROUP' | 'UNKNOWN';
export type PriceCategory = 'BUDGET' | 'STANDARD' | 'PREMIUM' | 'UNKNOWN';

export interface EnrichedBooking extends Booking {
  total_amount: number;
  booking_status_category: StatusCategory;
  booking_size_category: SizeCategory;
  price_category: PriceCategory;
  active_revenue: number;
  lost_revenue: number;
  booking_date_only: string;
  booking_hour: number;
  day_of_week: number;
  is_valid_booking: boolean;
  validation_errors: string[];
}

export interface EnrichedBookingChange {
  event_id: string;
  op: Op;
  before: EnrichedBooking | null;
  after: EnrichedBooking | null;
  ts_ms: number;
  source: Source;
  rules_version: string;
  time_zone: string;
  /** The derivation settings' epoch (see DerivationSettings): a backfill re-derives under a newer one. */
  derivation_epoch: number;
  enriched_at: number;
}

/** Gold snapshot of one movie. `movie_id` is null for the '(none)' row (key NO_MOVIE_KEY). */
export interface MovieKpis {
  movie_id: string | null;
  total_bookings: number;
  valid_bookings: number;
  invalid_bookings: number;
  data_quality_score: number | null;
  active_bookings: number;
  cancelled_bookings: number;
  total_tickets: number;
  total_active_revenue_cents: number;
  total_lost_revenue_cents: number;
  total_gross_revenue_cents: number;
  single_bookings: number;
  group_bookings: number;
  large_group_bookings: number;
  budget_bookings: number;
  standard_bookings: number;
  premium_bookings: number;
  cancellation_rate_percent: number | null;
  active_rate_percent: number | null;
  avg_revenue_per_active_booking_cents: number | null;
  booking_days: number;
  active_hours: number;
  new_bookings: number;
  status_changes: number;
  updates: number;
  deleted_bookings: number;
  updated_at: number;
  last_event_ts_ms: number;
  snapshot_version: number;
}

/** The derivation settings in force (control topic, key `derivation-settings`). */
export interface DerivationSettings {
  time_zone: string;
  rules_version: string;
  epoch: number;
  since: number;
  set_by: string;
}

/** An enricher instance's acknowledgement of an epoch (control topic, key `enricher/<group>/<instance>`). */
export interface EnricherAck {
  group_id: string;
  instance_id: string;
  member_id: string;
  epoch: number;
  acked_at: number;
}

export type BackfillStatus = 'SWITCHING' | 'RUNNING' | 'FINISHED';

export interface BackfillPartition {
  partition: number;
  start: number;
  /** Exclusive; -1 until the range is captured. */
  end: number;
}

/** A backfill's state (control topic, key `backfill/<epoch>`). */
export interface BackfillState {
  epoch: number;
  time_zone: string;
  rules_version: string;
  previous: DerivationSettings | null;
  from: string;
  group_id: string;
  status: BackfillStatus;
  partitions: BackfillPartition[];
  created_at: number;
  range_captured_at: number | null;
  finished_at: number | null;
  /** Bronze records in the range (set when finished). */
  records: number;
  /** Records re-derived by the run that finished it, and how long that run took (its throughput). */
  run_records: number;
  run_ms: number;
}

/** A control topic record: exactly one field is set (the key says which). */
export interface PipelineControl {
  settings: DerivationSettings | null;
  enricher: EnricherAck | null;
  backfill: BackfillState | null;
}

export type AlertStatus = 'FIRING' | 'RESOLVED';
/** EVENT: the alert's times are event times (rules over booking changes); WALL: wall-clock times. */
export type AlertClock = 'EVENT' | 'WALL';

/** One transition of an alert (topic movies.alerts.v1, compacted, key `alert_id`). */
export interface Alert {
  alert_id: string;
  rule: string;
  rule_type: string;
  /** A movie id, or 'pipeline'. */
  subject: string;
  movie_id: string | null;
  status: AlertStatus;
  severity: string;
  labels: Record<string, string>;
  summary: string;
  value: number | null;
  threshold: number | null;
  baseline: number | null;
  clock: AlertClock;
  active_since: number;
  fired_at: number;
  resolved_at: number | null;
  /** Wall clock of the decision. */
  transition_at: number;
  /** 1 firing, 2 resolved. */
  sequence: number;
}

/** Kafka key and display name of the pipeline-wide row of bookings without a movie. */
export const NO_MOVIE_KEY = '(none)';
