import type avro from 'avsc';
import { loadSchema, SCHEMA_NAMES } from '../../src';
import { sampleChange } from '../fixtures/changes';

/** The TypeScript types in src/types.ts must list the same fields as the Avro schemas. */
const typeFields: Record<string, string[]> = {
  BookingChange: Object.keys(sampleChange),
};

describe('schemas/', () => {
  it.each(SCHEMA_NAMES)('%s parses and has a namespace', (name) => {
    const { type } = loadSchema(name);
    expect(type.name).toBe(`movies.cdc.v1.${name}`);
  });

  it('BookingChange matches its TypeScript shape', () => {
    const { type } = loadSchema('BookingChange');
    const fields = (type as avro.types.RecordType).fields.map((f) => f.name);
    expect(fields).toEqual(typeFields.BookingChange);
    expect(type.isValid(sampleChange)).toBe(true);
  });
});
