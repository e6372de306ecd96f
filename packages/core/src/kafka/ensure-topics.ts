import type { Admin } from 'kafkajs';
import { topicSpecs, type TopicNames, type TopicOptions } from '../topics';
import { waitFor } from '../wait';

/**
 * Creates the contract's topics if missing. Returns the names created now. Idempotent: existing
 * topics are left as they are (see retention.ts to report what they keep).
 */
export async function ensureTopics(
  admin: Admin,
  names: TopicNames,
  partitions: number,
  options: TopicOptions = {},
): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topicSpecs(names, partitions, options).filter((s) => !existing.has(s.topic));
  if (missing.length === 0) return [];
  await admin.createTopics({ topics: missing, waitForLeaders: false });
  // kafkajs's own waitForLeaders retries LEADER_NOT_AVAILABLE only; a KRaft broker may answer
  // UNKNOWN_TOPIC_OR_PARTITION for a moment after the creation, which kafkajs then throws.
  const created = missing.map((s) => s.topic);
  await waitFor(
    async () => {
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: created });
        return topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
      } catch {
        return false;
      }
    },
    { timeoutMs: 30_000, intervalMs: 100, what: `leaders of the new topics ${created.join(', ')}` },
  );
  return created;
}
