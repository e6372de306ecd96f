// @ts-check
// Column definitions of the dashboard's tables.
import { dateTime, int, money, percent } from './format.js';
import { badge } from './tables.js';

const movieCol = { key: 'movie_key', label: 'Movie', format: (r) => r.movie_key };

/** "GROUP" when all valid bookings share one category, else "SINGLE 2 · GROUP 1". */
function mix(row, parts) {
  const present = parts.filter(([key]) => Number(row[key]) > 0);
  if (present.length === 0) return '—';
  if (present.length === 1) return present[0][1];
  return present.map(([key, name]) => `${name} ${int(row[key])}`).join(' · ');
}

const SIZE = [
  ['single_bookings', 'SINGLE'],
  ['group_bookings', 'GROUP'],
  ['large_group_bookings', 'LARGE_GROUP'],
];
const PRICE = [
  ['budget_bookings', 'BUDGET'],
  ['standard_bookings', 'STANDARD'],
  ['premium_bookings', 'PREMIUM'],
];

const n = (key, label, title) => ({ key, label, num: true, title, format: (r) => int(r[key]) });
const m = (key, label, title) => ({ key, label, num: true, title, format: (r) => money(r[key]) });
const p = (key, label, title) => ({ key, label, num: true, title, format: (r) => percent(r[key]) });

export const PERFORMANCE_COLUMNS = [
  movieCol,
  n('total_bookings', 'Bookings', 'Current bookings (valid and invalid)'),
  m(
    'total_gross_revenue_cents',
    'Revenue',
    'Gross revenue of valid bookings (active + lost + other statuses)',
  ),
  n('total_tickets', 'Tickets', 'Tickets of valid bookings'),
];

export const INSIGHT_BASE_COLUMNS = [
  movieCol,
  n('total_bookings', 'Total'),
  n('active_bookings', 'Active'),
  n('cancelled_bookings', 'Cancelled'),
  m('total_active_revenue_cents', 'Active rev'),
  m('total_lost_revenue_cents', 'Lost rev'),
  { key: 'size_mix', label: 'Size', sortable: false, format: (r) => mix(r, SIZE) },
  { key: 'price_mix', label: 'Price', sortable: false, format: (r) => mix(r, PRICE) },
  p('cancellation_rate_percent', 'Cancel %'),
  n('status_changes', 'Status changes'),
];

export const INSIGHT_EXTRA_COLUMNS = [
  n('valid_bookings', 'Valid'),
  n('invalid_bookings', 'Invalid'),
  p('data_quality_score', 'Data quality'),
  m('total_gross_revenue_cents', 'Gross rev'),
  n('total_tickets', 'Tickets'),
  n('single_bookings', 'Single'),
  n('group_bookings', 'Group'),
  n('large_group_bookings', 'Large group'),
  n('budget_bookings', 'Budget'),
  n('standard_bookings', 'Standard'),
  n('premium_bookings', 'Premium'),
  p('active_rate_percent', 'Active %'),
  m('avg_revenue_per_active_booking_cents', 'Avg rev / active'),
  n('booking_days', 'Booking days'),
  n('active_hours', 'Active hours'),
  n('new_bookings', 'New bookings'),
  n('updates', 'Updates'),
  n('deleted_bookings', 'Deleted'),
  { key: 'updated_at', label: 'Updated', num: true, format: (r) => dateTime(r.updated_at) },
];

function validity(r) {
  if (Number(r.is_valid_booking) === 1) return 'valid';
  const b = badge('invalid', 'invalid');
  b.title = String(r.validation_errors ?? '');
  return b;
}

/** Raw rows; keys are the server's sort columns. */
export const RAW_COLUMNS = [
  { key: 'booking_id', label: 'Booking' },
  { key: 'movie_id', label: 'Movie' },
  { key: 'customer_id', label: 'Customer' },
  { key: 'booking_date', label: 'Booking date (UTC)', format: (r) => dateTime(r.booking_date) },
  { key: 'status', label: 'Status', format: (r) => badge(String(r.status)) },
  n('ticket_count', 'Tickets'),
  m('ticket_price_cents', 'Price'),
  m('total_amount_cents', 'Total'),
  { key: 'is_valid_booking', label: 'Quality', format: validity },
  n('version', 'Version'),
  n('derivation_epoch', 'Epoch'),
  { key: 'updated_at', label: 'Updated (UTC)', format: (r) => dateTime(r.updated_at) },
];
