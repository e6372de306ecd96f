import type { FastifySchemaValidationError } from 'fastify';
import { CdcError } from '@cdc/core';

/**
 * How query strings become validated parameters, for every route (the JSON API and the websocket
 * upgrade). Pure: no I/O.
 *
 * 1. `parseQueryString` (fastify's querystring parser) turns the raw text into values: a list
 *    parameter (`status`, `movie`) is split on commas, and repeating it adds items
 *    (`status=A,B` = `status=A&status=B`); any other parameter given twice becomes an array that
 *    the route's JSON schema refuses ("given 2 times, expected once").
 * 2. Fastify validates the values against the route's querystring schema (ajv with the options
 *    below: nothing unknown is dropped silently, every problem is reported).
 * 3. `describeQueryErrors` (fastify's schemaErrorFormatter) names each bad parameter and what is
 *    wrong with it; the error handler answers 400 `{"error": <that text>}`.
 */
export const LIST_PARAMS: ReadonlySet<string> = new Set(['status', 'movie']);

export type QueryValues = Record<string, string | string[]>;

export function parseQueryString(text: string): QueryValues {
  const out = Object.create(null) as QueryValues;
  const params = new URLSearchParams(text);
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    if (LIST_PARAMS.has(key)) {
      out[key] = values
        .join(',')
        .split(',')
        .map((v) => v.trim());
    } else {
      out[key] = values.length === 1 ? values[0]! : values;
    }
  }
  return out;
}

/**
 * Ajv options for request validation (merged into fastify's defaults). `removeAdditional: false`:
 * an unknown parameter is an error, not silently ignored (a typo must not return unfiltered
 * data). `allErrors`: every bad parameter is named at once. `verbose`: errors carry the value,
 * so a repeated scalar can be told apart from a wrong type. `style`/`explode` are OpenAPI
 * serialization hints on querystring schemas, not validation keywords.
 */
export const AJV_OPTIONS = {
  removeAdditional: false,
  allErrors: true,
  verbose: true,
  coerceTypes: 'array' as const,
  useDefaults: true,
  keywords: ['style', 'explode'],
};

/** An HTTP request refused on purpose, with its status (4xx/5xx) and a reason for the client. */
export class HttpError extends CdcError {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    const notNow = status === 429 || status === 503;
    super(notNow ? 'UNAVAILABLE' : 'INVALID_INPUT', message, { retriable: notNow });
  }
}

/** A validation failure as the error handler answers it: 400 and the reason. */
export class QueryError extends HttpError {
  constructor(
    message: string,
    readonly validation: readonly FastifySchemaValidationError[],
  ) {
    super(400, message);
  }
}

/** Ajv's error objects carry the offending value when `verbose` is on. */
type VerboseError = FastifySchemaValidationError & { data?: unknown };

/** One sentence naming every bad parameter, e.g. `page: must be >= 1; unknown parameter(s): x`. */
export function describeQueryErrors(
  errors: readonly FastifySchemaValidationError[],
  dataVar: string,
): string {
  const unknown: string[] = [];
  const byName = new Map<string, string>();
  for (const e of errors as readonly VerboseError[]) {
    const params = e.params;
    if (e.keyword === 'additionalProperties') {
      unknown.push(String(params.additionalProperty));
      continue;
    }
    const [, name = '', item] = e.instancePath.split('/');
    if (e.keyword === 'dependencies' || e.keyword === 'dependentRequired') {
      const property = String(params.property);
      if (!byName.has(property)) {
        byName.set(property, `${property} and ${String(params.missingProperty)} go together`);
      }
      continue;
    }
    const key = name || dataVar;
    if (byName.has(key)) continue;
    const message =
      e.keyword === 'type' && Array.isArray(e.data)
        ? `given ${e.data.length} times, expected once`
        : item !== undefined
          ? `item ${Number(item) + 1} ${e.message ?? 'is invalid'}`
          : (e.message ?? 'is invalid');
    byName.set(key, message);
  }
  const parts = [...byName].map(([name, message]) => `${name}: ${message}`);
  if (unknown.length > 0) parts.push(`unknown parameter(s): ${[...new Set(unknown)].join(', ')}`);
  return parts.join('; ') || `${dataVar}: invalid`;
}

/** fastify's `schemaErrorFormatter`. */
export function queryErrorFormatter(errors: FastifySchemaValidationError[], dataVar: string): Error {
  return new QueryError(describeQueryErrors(errors, dataVar), errors);
}
