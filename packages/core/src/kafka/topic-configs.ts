import { ConfigResourceTypes, type Admin } from 'kafkajs';

export interface TopicConfigs {
  topic: string;
  /** The value in force of each config asked for (broker defaults included), by config name. */
  values: Record<string, string | undefined>;
}

/** The values in force of `configNames` for existing topics, one entry per topic. */
export async function describeTopicConfigs(
  admin: Admin,
  topics: string[],
  configNames: string[],
): Promise<TopicConfigs[]> {
  if (topics.length === 0) return [];
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames })),
  });
  return resources.map((r) => ({
    topic: r.resourceName,
    values: Object.fromEntries(
      configNames.map((name) => [name, r.configEntries.find((e) => e.configName === name)?.configValue]),
    ),
  }));
}
