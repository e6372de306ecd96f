import type { TxUnit } from './tx-plan';

/**
 * What this instance knows about its place in the consumer group: the generation (counted by
 * group joins), its assignment, whether a rebalance has started, and the input offsets it has
 * committed itself.
 *
 * The start offset of a partition is checked once per generation, because a consumer that
 * (re)joins reads the committed offsets without KIP-447's "require stable": offsets of a
 * transaction whose markers are still being written are not visible yet, so kafkajs may start a
 * partition a little too early. The check takes the larger of the broker's committed offset,
 * read again when the first batch arrives, and the offset this instance committed itself.
 */
export class GroupState {
  generation = 0;
  rebalancing = false;
  private assignment = new Set<string>();
  private readonly committedByUs = new Map<string, number>();
  private readonly startOffsets = new Map<string, Promise<number>>();

  constructor(private readonly fetchCommitted: (topic: string, partition: number) => Promise<number>) {}

  joined(assignment: Record<string, number[]>): void {
    this.generation += 1;
    this.rebalancing = false;
    this.assignment = new Set(Object.entries(assignment).flatMap(([t, ps]) => ps.map((p) => key(t, p))));
    this.startOffsets.clear();
  }

  /** A rebalance has begun: nothing fetched in this generation may commit any more. */
  markRebalancing(): void {
    this.rebalancing = true;
  }

  assigned(): string[] {
    return [...this.assignment].map((k) => k.replace('\u0000', ':'));
  }

  isOwned(unit: Pick<TxUnit, 'topic' | 'partition' | 'generation'>): boolean {
    return (
      !this.rebalancing &&
      unit.generation === this.generation &&
      this.assignment.has(key(unit.topic, unit.partition))
    );
  }

  noteCommitted(topic: string, partition: number, nextOffset: number): void {
    const k = key(topic, partition);
    this.committedByUs.set(k, Math.max(this.committedByUs.get(k) ?? -1, nextOffset));
  }

  /** The first offset still to process (-1: nothing committed, start where the consumer starts). */
  startOffset(topic: string, partition: number): Promise<number> {
    const k = key(topic, partition);
    let p = this.startOffsets.get(k);
    if (!p) {
      p = this.fetchCommitted(topic, partition).then(
        (broker) => Math.max(broker, this.committedByUs.get(k) ?? -1),
        (err: unknown) => {
          this.startOffsets.delete(k);
          throw err;
        },
      );
      this.startOffsets.set(k, p);
    }
    return p;
  }

  /** Forget the cached start offset (after a commit whose outcome is unknown). */
  invalidate(topic: string, partition: number): void {
    this.startOffsets.delete(key(topic, partition));
  }
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;
