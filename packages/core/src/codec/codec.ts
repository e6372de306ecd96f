import avro from 'avsc';
import { DecodeError } from '../errors';
import type { RegistryClient } from './registry';
import { strictSkipOptions } from './strict-skips';
import { frame, unframe } from './wire-format';

/**
 * Encodes and decodes values in the Confluent wire format with avsc. Schemas are registered (or
 * looked up) once; writer schemas met while decoding are fetched once per id and cached, and an
 * unknown id is remembered for `unknownIdTtlMs`, so the registry is never called per message.
 */
export interface Encoder<T> {
  readonly schemaId: number;
  encode(value: T): Buffer;
}

export interface Decoder<T> {
  /** Decodes into the reader schema. Throws DecodeError for undecodable bytes, RegistryError (retriable) when the registry is down. */
  decode(value: Buffer | null): Promise<T>;
  /**
   * Decodes synchronously when the writer schema is already known (a hot loop saves a promise per
   * record); undefined when it is not (then call `decode`). Throws DecodeError like `decode`.
   */
  decodeKnown(value: Buffer | null): T | undefined;
}

/**
 * Registers `schemaText` under `subject` (idempotent: the same schema gets the same id) and returns
 * an encoder. The subject's compatibility level is not touched: `cdc schemas register` sets it.
 */
export async function createEncoder<T>(
  registry: RegistryClient,
  subject: string,
  schemaText: string,
  type: avro.Type,
): Promise<Encoder<T>> {
  const schemaId = await registry.register(subject, schemaText);
  return {
    schemaId,
    encode: (value: T) => frame(schemaId, type.toBuffer(value)),
  };
}

export interface DecoderOptions {
  /** How long an unknown (or unreadable) schema id is remembered as such. Default 60 s. */
  unknownIdTtlMs?: number;
  /**
   * For a reader schema that is a projection of `asStrictAs` (reads fewer fields): decode only
   * what `asStrictAs` would decode. A writer schema must also be readable as `asStrictAs`, and
   * skipped values are checked as a read checks them (strict-skips.ts).
   */
  asStrictAs?: avro.Type;
}

export function createDecoder<T>(
  registry: RegistryClient,
  readerType: avro.Type,
  options: DecoderOptions = {},
): Decoder<T> {
  const unknownIdTtlMs = options.unknownIdTtlMs ?? 60_000;
  const readers = new Map<number, (body: Buffer) => T>();
  const unknown = new Map<number, number>();
  const pending = new Map<number, Promise<(body: Buffer) => T>>();

  async function resolve(id: number): Promise<(body: Buffer) => T> {
    let writer: avro.Type;
    try {
      writer = await registry.schemaById(id);
    } catch (err) {
      if (err instanceof DecodeError) unknown.set(id, Date.now() + unknownIdTtlMs);
      throw err;
    }
    let reader: (body: Buffer) => T;
    try {
      const strict = options.asStrictAs;
      if (strict !== undefined) {
        // The library's writer type skips as avsc does; a strict decoder needs its own copy.
        writer = avro.Type.forSchema(writer.schema(), strictSkipOptions());
        if (!writer.equals(strict)) strict.createResolver(writer);
      }
      if (writer.equals(readerType)) {
        reader = (body) => readerType.fromBuffer(body) as T;
      } else {
        const resolver = readerType.createResolver(writer);
        reader = (body) => readerType.fromBuffer(body, resolver) as T;
      }
    } catch (err) {
      unknown.set(id, Date.now() + unknownIdTtlMs);
      throw new DecodeError(
        'SCHEMA_MISMATCH',
        `schema id ${id} cannot be read as ${readerType.name ?? 'the reader schema'}: ${(err as Error).message}`,
        err,
      );
    }
    readers.set(id, reader);
    return reader;
  }

  function read(schemaId: number, reader: (body: Buffer) => T, body: Buffer): T {
    try {
      return reader(body);
    } catch (err) {
      throw new DecodeError(
        'SCHEMA_MISMATCH',
        `body does not match schema id ${schemaId}: ${(err as Error).message}`,
        err,
      );
    }
  }

  return {
    decodeKnown(value) {
      const { schemaId, body } = unframe(value);
      const reader = readers.get(schemaId);
      return reader === undefined ? undefined : read(schemaId, reader, body);
    },
    async decode(value) {
      const { schemaId, body } = unframe(value);
      let reader = readers.get(schemaId);
      if (!reader) {
        const until = unknown.get(schemaId);
        if (until !== undefined && until > Date.now()) {
          throw new DecodeError(
            'UNKNOWN_SCHEMA_ID',
            `schema id ${schemaId} is not in the registry (or not readable)`,
          );
        }
        let p = pending.get(schemaId);
        if (!p) {
          p = resolve(schemaId).finally(() => pending.delete(schemaId));
          pending.set(schemaId, p);
        }
        reader = await p;
      }
      return read(schemaId, reader, body);
    },
  };
}
