import type { Deriver } from '@cdc/bookings';

/**
 * Which deriver a chunk is enriched with, and which epochs are still in flight. A chunk takes a
 * lease on the deriver current when it is enriched and returns it when its unit has settled
 * (committed, or aborted: then the chunk is enriched again, with the deriver current by then). A
 * switch takes effect for the next chunk; `settled()` resolves once no lease of an older epoch is
 * held — from then on nothing derived with an older epoch can still be committed.
 */
export interface DerivationLease {
  readonly deriver: Deriver;
  /** Idempotent. */
  release(): void;
}

export interface DerivationSource {
  acquire(): DerivationLease;
}

/** A source that always leases the same deriver (a backfill derives with fixed settings). */
export const fixedDerivation = (deriver: Deriver): DerivationSource => ({
  acquire: () => ({ deriver, release: () => undefined }),
});

export class Derivations implements DerivationSource {
  private deriver: Deriver;
  private readonly held = new Map<number, number>();
  private waiters: (() => void)[] = [];

  constructor(initial: Deriver) {
    this.deriver = initial;
  }

  get current(): Deriver {
    return this.deriver;
  }

  acquire(): DerivationLease {
    const deriver = this.deriver;
    const epoch = deriver.epoch;
    this.held.set(epoch, (this.held.get(epoch) ?? 0) + 1);
    let released = false;
    return {
      deriver,
      release: () => {
        if (released) return;
        released = true;
        const left = (this.held.get(epoch) ?? 1) - 1;
        if (left === 0) this.held.delete(epoch);
        else this.held.set(epoch, left);
        this.wake();
      },
    };
  }

  /** Chunks enriched from now on use `next`; resolves when no chunk of another epoch is in flight. */
  switchTo(next: Deriver): Promise<void> {
    this.deriver = next;
    return this.settled();
  }

  /** Resolves when every lease held is of the current epoch. */
  settled(): Promise<void> {
    if (this.isSettled()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Leases held, by epoch (for health). */
  inFlight(): Record<number, number> {
    return Object.fromEntries(this.held);
  }

  private isSettled(): boolean {
    for (const epoch of this.held.keys()) if (epoch !== this.deriver.epoch) return false;
    return true;
  }

  private wake(): void {
    if (this.waiters.length === 0 || !this.isSettled()) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
