/**
 * The building blocks of the API's JSON schemas (api-schemas.ts, api-schemas-pipeline.ts): typed
 * property shorthands, objects whose properties are required unless named optional, and
 * querystring schemas whose lists travel comma-separated. Pure data.
 */
export type Schema = Record<string, unknown>;

export const nullable = (type: 'string' | 'integer' | 'number'): Schema => ({ type: [type, 'null'] });
export const int: Schema = { type: 'integer' };
export const num: Schema = { type: 'number' };
export const str: Schema = { type: 'string' };
export const ms = (description: string): Schema => ({
  type: 'integer',
  description: `${description} (epoch ms)`,
});
export const cents = (description: string): Schema => ({
  type: 'integer',
  description: `${description} (integer cents)`,
});

export const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export const list = (pattern: string, maxItems: number, description: string): Schema => ({
  type: 'array',
  items: { type: 'string', pattern },
  maxItems,
  description: `${description}; comma-separated, the parameter may also be repeated`,
});

/** A querystring schema: lists travel comma-separated (`style: form, explode: false`). */
export const query = (properties: Record<string, Schema>): Schema => ({
  type: 'object',
  additionalProperties: false,
  style: 'form',
  explode: false,
  properties,
});

export const object = (properties: Record<string, Schema>, optional: readonly string[] = []): Schema => ({
  type: 'object',
  additionalProperties: false,
  required: Object.keys(properties).filter((k) => !optional.includes(k)),
  properties,
});
