import avro from 'avsc';
import { CdcError, loadSchema, type EnrichedBookingChange } from '@cdc/core';
import type { ChangeHead, ImageHead } from '../apply';

/**
 * The part of a silver change a rebuild needs before it knows whether the change is a booking's
 * final one: what the version rule and the event counters read (apply.ts's `ChangeHead`).
 * Decoding only this (an Avro reader schema that is a projection of EnrichedBookingChange: avsc
 * skips the writer's other fields without building strings or objects) costs half of a full
 * decode; a rebuild decodes the full change only for the final row of each booking. A head must
 * fail to decode exactly when the full change would, or a rebuild would apply a change the live
 * path skips: the rebuild's decoder is created with core's `asStrictAs` option (see codec.ts).
 */
const CHANGE_FIELDS = [
  'op',
  'before',
  'after',
  'ts_ms',
  'derivation_epoch',
] as const satisfies readonly (keyof ChangeHead & keyof EnrichedBookingChange)[];
const IMAGE_FIELDS = [
  'booking_id',
  'movie_id',
  'status',
  'version',
] as const satisfies readonly (keyof ImageHead)[];

export type ReplayHead = ChangeHead;

// Every field the rule reads is decoded (a compile-time check).
type Covers<Listed, All> = [Exclude<All, Listed>] extends [never] ? true : false;
const headIsComplete: [
  Covers<(typeof CHANGE_FIELDS)[number], keyof ChangeHead>,
  Covers<(typeof IMAGE_FIELDS)[number], keyof ImageHead>,
] = [true, true];
void headIsComplete;

interface RecordSchema {
  type: 'record';
  name: string;
  fields: { name: string; type: unknown }[];
}

const isRecord = (t: unknown): t is RecordSchema =>
  typeof t === 'object' && t !== null && (t as { type?: unknown }).type === 'record';

let headType: avro.Type | undefined;

/** The reader type of `ReplayHead`, derived from schemas/EnrichedBookingChange.avsc. */
export function replayHeadType(): avro.Type {
  if (headType !== undefined) return headType;
  const schema = JSON.parse(loadSchema('EnrichedBookingChange').text) as RecordSchema;
  const keep = (r: RecordSchema, names: readonly string[]): RecordSchema => {
    const fields = r.fields.filter((f) => names.includes(f.name));
    if (fields.length !== names.length) {
      throw new CdcError('INTERNAL', `${r.name} lacks a field the rebuild reads (${names.join(', ')})`);
    }
    return { ...r, fields };
  };
  const change = keep(schema, CHANGE_FIELDS);
  // `before` carries the image's record definition; `after` refers to it by name.
  change.fields = change.fields.map((f) =>
    Array.isArray(f.type)
      ? { ...f, type: (f.type as unknown[]).map((t) => (isRecord(t) ? keep(t, IMAGE_FIELDS) : t)) }
      : f,
  );
  headType = avro.Type.forSchema(change as unknown as avro.Schema);
  return headType;
}
