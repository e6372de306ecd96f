/** The contract's topics. TOPIC_PREFIX prefixes them all, so pipelines and tests can share a broker. */
export interface TopicNames {
  bronze: string;
  silver: string;
  deadLetter: string;
  gold: string;
}

export const BASE_TOPICS: TopicNames = {
  bronze: 'movies.booking-changes.v1',
  silver: 'movies.booking-enriched.v1',
  deadLetter: 'movies.booking-changes.dlq',
  gold: 'movies.kpis.v1',
};

export function topicNames(prefix = ''): TopicNames {
  return {
    bronze: prefix + BASE_TOPICS.bronze,
    silver: prefix + BASE_TOPICS.silver,
    deadLetter: prefix + BASE_TOPICS.deadLetter,
    gold: prefix + BASE_TOPICS.gold,
  };
}

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  configEntries: { name: string; value: string }[];
}

/** Topic definitions: bronze, silver and dead letters are deleted by time, gold is compacted. */
export function topicSpecs(names: TopicNames, partitions: number): TopicSpec[] {
  const del = [{ name: 'cleanup.policy', value: 'delete' }];
  return [
    { topic: names.bronze, numPartitions: partitions, configEntries: del },
    { topic: names.silver, numPartitions: partitions, configEntries: del },
    { topic: names.deadLetter, numPartitions: partitions, configEntries: del },
    {
      topic: names.gold,
      numPartitions: partitions,
      configEntries: [
        { name: 'cleanup.policy', value: 'compact' },
        { name: 'min.cleanable.dirty.ratio', value: '0.1' },
        { name: 'segment.ms', value: '600000' },
      ],
    },
  ];
}

/** Schema registry subject for a topic's values (TopicNameStrategy). */
export const valueSubject = (topic: string): string => `${topic}-value`;
