/**
 * Bytes kept for a rebuild's replay: each booking's newest Avro value, copied into large chunks
 * (no Buffer object per value, nothing for the garbage collector to move) and addressed by a
 * slot the caller owns and updates in place. A value that is superseded becomes garbage in its
 * chunk; when garbage outweighs live bytes, `compact` copies the live values into fresh chunks,
 * so memory stays within about twice the live bytes (plus `slackBytes`) however many changes
 * a booking had.
 */
export interface Slot {
  chunk: Buffer;
  start: number;
  end: number;
}

export const EMPTY_CHUNK = Buffer.alloc(0);

export class ByteArena {
  private chunk: Buffer;
  private pos = 0;
  private appended = 0;
  private live = 0;
  private compactions = 0;

  constructor(
    private readonly chunkBytes = 1 << 20,
    private readonly slackBytes = 32 << 20,
  ) {
    this.chunk = Buffer.allocUnsafeSlow(chunkBytes);
  }

  /** Copies `bytes` in and points `slot` at them; `slot`'s previous bytes, if any, become garbage. */
  put(slot: Slot, bytes: Buffer): void {
    this.live -= slot.end - slot.start;
    const length = bytes.length;
    if (this.pos + length > this.chunk.length) {
      this.chunk = Buffer.allocUnsafeSlow(Math.max(this.chunkBytes, length));
      this.pos = 0;
    }
    bytes.copy(this.chunk, this.pos);
    slot.chunk = this.chunk;
    slot.start = this.pos;
    slot.end = this.pos + length;
    this.pos += length;
    this.appended += length;
    this.live += length;
  }

  /** The bytes a slot points at (a view: valid until the next `compact`). */
  static view(slot: Slot): Buffer {
    return slot.chunk.subarray(slot.start, slot.end);
  }

  /** True when more than half of the bytes held (beyond the slack) are garbage. */
  get wasteful(): boolean {
    return this.appended > 2 * this.live + this.slackBytes;
  }

  /** Copies every live slot's bytes into fresh chunks (the old chunks are dropped). */
  compact(slots: Iterable<Slot>): void {
    this.chunk = Buffer.allocUnsafeSlow(this.chunkBytes);
    this.pos = 0;
    this.appended = 0;
    this.live = 0;
    for (const slot of slots) {
      if (slot.end === slot.start) continue;
      const bytes = ByteArena.view(slot);
      slot.start = slot.end = 0;
      this.put(slot, bytes);
    }
    this.compactions += 1;
  }

  get stats(): { liveBytes: number; heldBytes: number; compactions: number } {
    return { liveBytes: this.live, heldBytes: this.appended, compactions: this.compactions };
  }
}
