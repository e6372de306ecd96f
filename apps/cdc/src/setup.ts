import {
  createKafka,
  createRegistryClient,
  describeRetention,
  ensureTopics,
  historyTopics,
  loadSchema,
  losesHistory,
  SCHEMA_NAMES,
  topicNames,
  valueSubject,
  withAdmin,
  type ConnectionConfig,
  type Logger,
  type SchemaName,
  type TopicNames,
  type TopicOptions,
  type TopicRetention,
} from '@cdc/core';

const SUBJECT_TOPIC: Record<SchemaName, keyof TopicNames> = {
  BookingChange: 'bronze',
  EnrichedBookingChange: 'silver',
  MovieKpis: 'gold',
  PipelineControl: 'control',
  Alert: 'alerts',
};

export interface CreatedTopics {
  created: string[];
  /** Bronze or silver topics that existed already and whose retention deletes history (left unchanged). */
  losingHistory: TopicRetention[];
}

/** Creates the contract's topics (idempotent) and reports existing history topics that lose history. */
export async function createTopics(
  c: ConnectionConfig,
  logger: Logger,
  partitions: number,
  options: TopicOptions = {},
): Promise<CreatedTopics> {
  const kafka = createKafka(c, logger);
  return withAdmin(kafka, async (admin) => {
    const names = topicNames(c.topicPrefix);
    const created = await ensureTopics(admin, names, partitions, options);
    const existing = historyTopics(names).filter((t) => !created.includes(t));
    const losingHistory = (await describeRetention(admin, existing)).filter(losesHistory);
    return { created, losingHistory };
  });
}

/**
 * Sets each topic's `-value` subject to BACKWARD compatibility and registers its schema from
 * schemas/ (`cdc schemas register`, also run by `cdc topics create` and `cdc start`). The one
 * place compatibility levels are set: services only register (idempotently) what they write. The
 * level is set first, so a new version is checked against the subject's latest on registration
 * (a subject may be configured before its first version).
 */
export async function registerSchemas(c: ConnectionConfig): Promise<Record<string, number>> {
  const registry = createRegistryClient(c);
  const names = topicNames(c.topicPrefix);
  const ids: Record<string, number> = {};
  for (const name of SCHEMA_NAMES) {
    const subject = valueSubject(names[SUBJECT_TOPIC[name]]);
    await registry.setCompatibility(subject, 'BACKWARD');
    ids[subject] = await registry.register(subject, loadSchema(name).text);
  }
  return ids;
}

export interface SchemaCheck {
  subject: string;
  schema: SchemaName;
  result: 'compatible' | 'incompatible' | 'not registered';
  messages: string[];
}

/** Checks each schema in schemas/ against the latest version the registry holds for its subject. */
export async function checkSchemas(c: ConnectionConfig): Promise<SchemaCheck[]> {
  const registry = createRegistryClient(c);
  const names = topicNames(c.topicPrefix);
  const out: SchemaCheck[] = [];
  for (const name of SCHEMA_NAMES) {
    const subject = valueSubject(names[SUBJECT_TOPIC[name]]);
    const r = await registry.checkCompatibility(subject, loadSchema(name).text);
    out.push({
      subject,
      schema: name,
      result: r === null ? 'not registered' : r.compatible ? 'compatible' : 'incompatible',
      messages: r?.messages ?? [],
    });
  }
  return out;
}
