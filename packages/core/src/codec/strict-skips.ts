import avro from 'avsc';

/**
 * avsc checks values as it reads them, not as it skips them: a long that is not a safe integer
 * fails a read ("potential precision loss") and passes a skip; so does an enum index out of range.
 * A reader schema that is a projection (reads fewer fields than the writer) would then accept a
 * value its full counterpart rejects. Writer types built with `strictSkipOptions()` check what they
 * skip exactly as a read would, so a projection fails where the full read fails (see
 * `DecoderOptions.asStrictAs`).
 */
// avsc's type classes (ES5 constructors, untyped in its typings) subclassed for their `_skip`.
const types = avro.types as unknown as Record<string, { prototype: Record<string, unknown> }>;
const LongType = types.LongType as unknown as new () => avro.Type;
const EnumType = types.EnumType as unknown as new (schema: unknown, opts: unknown) => avro.Type;

/** avsc's Tap: the buffer and the position in it. */
interface Tap {
  buf: Buffer;
  pos: number;
}

class StrictLongType extends LongType {
  _skip(tap: Tap): void {
    // Up to 7 varint bytes hold 49 bits: |n| < 2^48, safe without decoding (a millisecond
    // timestamp takes 6). Longer ones are checked by avsc's own read.
    const { buf, pos } = tap;
    for (let i = 0; i < 7; i++) {
      if (((buf[pos + i] as number) & 0x80) === 0) {
        tap.pos = pos + i + 1;
        return;
      }
    }
    (LongType.prototype as unknown as { _read(tap: Tap): unknown })._read.call(this, tap);
  }
}

class StrictEnumType extends EnumType {
  _skip(tap: unknown): void {
    (EnumType.prototype as unknown as { _read(tap: unknown): unknown })._read.call(this, tap);
  }
}

const isTyped = (schema: unknown, name: string): boolean =>
  typeof schema === 'object' && schema !== null && (schema as { type?: unknown }).type === name;

/** Fresh options per `forSchema` call (avsc keeps its registry of named types in them). */
export const strictSkipOptions = (): Partial<avro.ForSchemaOptions> => ({
  typeHook: (schema, opts) => {
    if (schema === 'long' || isTyped(schema, 'long')) return new StrictLongType();
    if (isTyped(schema, 'enum')) return new StrictEnumType(schema, opts);
    return undefined;
  },
});
