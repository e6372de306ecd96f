/** The contract's topics. TOPIC_PREFIX prefixes them all, so pipelines and tests can share a broker. */
export interface TopicNames {
  bronze: string;
  silver: string;
  deadLetter: string;
  gold: string;
  /** Pipeline state (derivation settings, enricher acknowledgements, backfills): see control/. */
  control: string;
  /** Alert transitions (firing, resolved), keyed by alert id: see services/alerts. */
  alerts: string;
}

export const BASE_TOPICS: TopicNames = {
  bronze: 'movies.booking-changes.v1',
  silver: 'movies.booking-enriched.v1',
  deadLetter: 'movies.booking-changes.dlq',
  gold: 'movies.kpis.v1',
  control: 'movies.pipeline-control.v1',
  alerts: 'movies.alerts.v1',
};

export function topicNames(prefix = ''): TopicNames {
  return {
    bronze: prefix + BASE_TOPICS.bronze,
    silver: prefix + BASE_TOPICS.silver,
    deadLetter: prefix + BASE_TOPICS.deadLetter,
    gold: prefix + BASE_TOPICS.gold,
    control: prefix + BASE_TOPICS.control,
    alerts: prefix + BASE_TOPICS.alerts,
  };
}

/** Every topic name of a pipeline, in the order above. */
export const allTopics = (names: TopicNames): string[] => [
  names.bronze,
  names.silver,
  names.deadLetter,
  names.gold,
  names.control,
  names.alerts,
];

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  configEntries: { name: string; value: string }[];
}

/** Retention of a topic that keeps its whole history (Kafka's "no time limit"). */
export const UNLIMITED_RETENTION_MS = -1;

export interface TopicOptions {
  /**
   * retention.ms of bronze and silver, the pipeline's history: rebuilds and backfills read them
   * from their earliest offset. Default unlimited; a finite value makes them cover only that window.
   */
  historyRetentionMs?: number;
}

/** The topics whose history rebuilds and backfills replay. */
export const historyTopics = (names: TopicNames): string[] => [names.bronze, names.silver];

/**
 * Topic definitions: bronze and silver keep their history (unlimited retention unless chosen
 * otherwise), dead letters are deleted by the broker's default retention, gold and the control
 * topic are compacted (the control topic has one partition: its few records stay in one order),
 * and so is the alerts topic (the newest transition of every alert; keyed by alert id).
 */
export function topicSpecs(names: TopicNames, partitions: number, options: TopicOptions = {}): TopicSpec[] {
  const history = [
    { name: 'cleanup.policy', value: 'delete' },
    { name: 'retention.ms', value: String(options.historyRetentionMs ?? UNLIMITED_RETENTION_MS) },
  ];
  const compact = [
    { name: 'cleanup.policy', value: 'compact' },
    { name: 'min.cleanable.dirty.ratio', value: '0.1' },
    { name: 'segment.ms', value: '600000' },
  ];
  return [
    { topic: names.bronze, numPartitions: partitions, configEntries: history },
    { topic: names.silver, numPartitions: partitions, configEntries: history },
    {
      topic: names.deadLetter,
      numPartitions: partitions,
      configEntries: [{ name: 'cleanup.policy', value: 'delete' }],
    },
    { topic: names.gold, numPartitions: partitions, configEntries: compact },
    { topic: names.control, numPartitions: 1, configEntries: compact },
    { topic: names.alerts, numPartitions: partitions, configEntries: compact },
  ];
}

/** Schema registry subject for a topic's values (TopicNameStrategy). */
export const valueSubject = (topic: string): string => `${topic}-value`;
