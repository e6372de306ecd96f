/**
 * Offset commits carry their commit time in the commit's metadata (`t=<epoch ms>`): Kafka keeps
 * no commit time a client can read, and `cdc status` shows when each group last committed.
 */
export const commitMetadata = (nowMs: number = Date.now()): string => `t=${nowMs}`;

/** The commit time written by `commitMetadata`, or null. */
export function commitTimeOf(metadata: string | null | undefined): number | null {
  const m = /^t=(\d+)$/.exec(metadata ?? '');
  return m ? Number(m[1]) : null;
}
