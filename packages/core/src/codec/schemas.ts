import { readFileSync } from 'node:fs';
import path from 'node:path';
import avro from 'avsc';

/** Schemas live in the repository's `schemas/` folder and nowhere else. */
export const SCHEMAS_DIR = path.resolve(__dirname, '../../../../schemas');

export type SchemaName =
  'BookingChange' | 'EnrichedBookingChange' | 'MovieKpis' | 'PipelineControl' | 'Alert';
export const SCHEMA_NAMES: readonly SchemaName[] = [
  'BookingChange',
  'EnrichedBookingChange',
  'MovieKpis',
  'PipelineControl',
  'Alert',
];

const cache = new Map<string, { text: string; type: avro.Type }>();

/** The schema's canonical JSON text and its avsc Type (logical types stay plain longs: epoch ms). */
export function loadSchema(name: SchemaName, dir = SCHEMAS_DIR): { text: string; type: avro.Type } {
  const file = path.join(dir, `${name}.avsc`);
  let hit = cache.get(file);
  if (!hit) {
    const json: unknown = JSON.parse(readFileSync(file, 'utf8'));
    hit = { text: JSON.stringify(json), type: avro.Type.forSchema(json as avro.Schema) };
    cache.set(file, hit);
  }
  return hit;
}
