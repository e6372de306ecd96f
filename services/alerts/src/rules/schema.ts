import { z } from 'zod';
import { parseDuration } from '../duration';

/**
 * The rules file's shape (zod), with every default. One entry per rule; `type` says what it
 * watches, the other fields tune it. Durations are strings such as `30s` or `5m`. The shipped
 * defaults are in `alerts.yaml` next to this service, and in its README.
 */
export const RULE_TYPES = [
  'cancellation_spike',
  'booking_surge',
  'booking_drop',
  'data_quality_low',
  'dead_letters',
  'pipeline_stale',
] as const;
export type RuleType = (typeof RULE_TYPES)[number];

export const SUBJECTS = ['movies', 'pipeline'] as const;
export type SubjectKind = (typeof SUBJECTS)[number];

const duration = (what: string, min = 0) =>
  z.string({ invalid_type_error: `must be a ${what} such as 30s or 5m` }).transform((s, ctx) => {
    const ms = parseDuration(s);
    if (ms === null || ms < min) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a ${min > 0 ? 'positive ' : ''}${what} such as 30s or 5m (got '${s}')`,
      });
      return z.NEVER;
    }
    return ms;
  });
const positive = (what: string) => z.number({ invalid_type_error: `must be a number (${what})` }).positive();

const subjects = z
  .union([z.enum(SUBJECTS), z.array(z.enum(SUBJECTS)).min(1)])
  .transform((s) => [...new Set(Array.isArray(s) ? s : [s])]);

const common = {
  name: z
    .string()
    .regex(
      /^[a-z][a-z0-9_-]{0,63}$/,
      'must be 1-64 lower-case letters, digits, _ or -, starting with a letter',
    )
    .optional(),
  severity: z.enum(['info', 'warning', 'critical']).default('warning'),
  labels: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
  for: duration('duration').default('0s'),
  keep_firing_for: duration('duration').default('0s'),
};

const baseline = z
  .object({
    kind: z.enum(['trailing', 'time_of_day']).default('trailing'),
    half_life: duration('duration', 1).default('30m'),
    warm_up: duration('duration').default('3m'),
    time_zone: z.string().min(1).default('UTC'),
  })
  .strict()
  .default({});

const rate = {
  window: duration('window', 1),
  subjects: subjects.default('movies'),
  ratio: positive('how many times the baseline').refine((r) => r > 1, 'must be above 1'),
  z_score: positive('standard deviations').default(5),
  clear_ratio: positive('how many times the baseline').refine((r) => r >= 1, 'must be at least 1'),
  baseline,
};

const spike = z
  .object({
    type: z.enum(['cancellation_spike', 'booking_surge']),
    ...common,
    ...rate,
    min_count: z.number().int().positive(),
  })
  .strict()
  .refine((r) => r.clear_ratio < r.ratio, {
    message: 'must be below ratio (the band between them keeps a hovering value from flapping)',
    path: ['clear_ratio'],
  });

const drop = z
  .object({
    type: z.literal('booking_drop'),
    ...common,
    ...rate,
    min_expected: z.number().int().positive(),
  })
  .strict()
  .refine((r) => r.clear_ratio < r.ratio, { message: 'must be below ratio', path: ['clear_ratio'] });

const quality = z
  .object({
    type: z.literal('data_quality_low'),
    ...common,
    subjects: subjects.default(['movies', 'pipeline']),
    below: z.number().min(0).max(100),
    clear_above: z.number().min(0).max(100),
    min_bookings: z.number().int().nonnegative().default(100),
  })
  .strict()
  .refine((r) => r.clear_above >= r.below, { message: 'must be at least below', path: ['clear_above'] });

const deadLetters = z
  .object({
    type: z.literal('dead_letters'),
    ...common,
    window: duration('window', 1),
    min_count: z.number().int().positive().default(1),
  })
  .strict();

const stale = z
  .object({
    type: z.literal('pipeline_stale'),
    ...common,
    max_lag: z.number().int().positive(),
    max_freshness: duration('duration', 1),
    clear_ratio: positive('share of the thresholds')
      .refine((r) => r <= 1, 'must be at most 1')
      .default(0.5),
  })
  .strict();

export const rulesFileSchema = z
  .object({
    rules: z.array(z.unknown()).min(1, 'must list at least one rule'),
  })
  .strict();

/** Shape for a rule's type (to validate each rule against exactly one shape). */
export function shapeFor(type: RuleType): z.ZodTypeAny {
  switch (type) {
    case 'cancellation_spike':
    case 'booking_surge':
      return spike;
    case 'booking_drop':
      return drop;
    case 'data_quality_low':
      return quality;
    case 'dead_letters':
      return deadLetters;
    case 'pipeline_stale':
      return stale;
  }
}

export type SpikeRuleInput = z.output<typeof spike>;
export type DropRuleInput = z.output<typeof drop>;
export type QualityRuleInput = z.output<typeof quality>;
export type DeadLettersRuleInput = z.output<typeof deadLetters>;
export type StaleRuleInput = z.output<typeof stale>;
export type RuleInput =
  SpikeRuleInput | DropRuleInput | QualityRuleInput | DeadLettersRuleInput | StaleRuleInput;
