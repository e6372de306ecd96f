import type { Admin } from 'kafkajs';
import { describeTopicConfigs } from './topic-configs';

/**
 * Whether a topic keeps its history. Bronze and silver are the pipeline's source of truth:
 * rebuilds and backfills read them from their earliest offset, so a topic the broker deletes from
 * (by time or by size) makes them cover only what is left.
 */
export interface TopicRetention {
  topic: string;
  cleanupPolicy: string;
  /** -1: no time limit. */
  retentionMs: number;
  /** -1: no size limit (per partition). */
  retentionBytes: number;
}

/** True when the broker deletes the topic's old records (by time or by size). */
export function losesHistory(r: TopicRetention): boolean {
  return r.cleanupPolicy.split(',').includes('delete') && (r.retentionMs >= 0 || r.retentionBytes >= 0);
}

/** '7 days', '12 hours', '90 minutes', '1500 ms'. */
export function formatRetention(ms: number): string {
  if (ms < 0) return 'unlimited';
  const units: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
  ];
  for (const [size, name] of units) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${name}${ms === size ? '' : 's'}`;
  }
  return `${ms} ms`;
}

/** What a topic that loses history keeps, in words. */
export function describeLoss(r: TopicRetention): string {
  const parts: string[] = [];
  if (r.retentionMs >= 0) parts.push(`${formatRetention(r.retentionMs)} (retention.ms=${r.retentionMs})`);
  if (r.retentionBytes >= 0) parts.push(`${r.retentionBytes} bytes per partition (retention.bytes)`);
  return `${r.topic} keeps only ${parts.join(' and ')}`;
}

/** The retention settings in force for existing topics (broker defaults included). */
export async function describeRetention(admin: Admin, topics: string[]): Promise<TopicRetention[]> {
  const configs = await describeTopicConfigs(admin, topics, [
    'cleanup.policy',
    'retention.ms',
    'retention.bytes',
  ]);
  return configs.map(({ topic, values }) => ({
    topic,
    cleanupPolicy: values['cleanup.policy'] ?? 'delete',
    retentionMs: Number(values['retention.ms'] ?? -1),
    retentionBytes: Number(values['retention.bytes'] ?? -1),
  }));
}
