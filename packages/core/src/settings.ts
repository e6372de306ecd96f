import { z } from 'zod';

/**
 * What a settings schema says about itself, for `--help` and docs/configuration.md: every
 * environment variable it reads, its description (`.describe()` on the field) and its default.
 * The schema that validates a variable is the one that documents it, so the two cannot drift; a
 * new setting is one field with a `.describe()` (a unit test fails when one has none).
 */
export interface SettingDoc {
  name: string;
  description: string;
  /** The default as text, or undefined when there is none (optional, or derived as the description says). */
  defaultValue: string | undefined;
}

/** A settings schema: an object of environment variables. */
export type SettingsSchema = z.AnyZodObject;

export function describeSettings(schema: SettingsSchema): SettingDoc[] {
  return Object.entries(schema.shape as Record<string, z.ZodTypeAny>).map(([name, field]) => ({
    name,
    description: field.description ?? '',
    defaultValue: defaultOf(field),
  }));
}

/** The default of a field, looking through .describe(), .optional() and refinements. */
function defaultOf(field: z.ZodTypeAny): string | undefined {
  let t: z.ZodTypeAny | undefined = field;
  while (t) {
    if (t instanceof z.ZodDefault) {
      const v: unknown = (t._def as { defaultValue: () => unknown }).defaultValue();
      return Array.isArray(v) ? v.join(',') : String(v);
    }
    const def = t._def as { innerType?: z.ZodTypeAny; schema?: z.ZodTypeAny };
    t = def.innerType ?? def.schema;
  }
  return undefined;
}
