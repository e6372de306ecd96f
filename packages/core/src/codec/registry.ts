import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import createRegistryApi from '@kafkajs/confluent-schema-registry/dist/api';
import { Agent as HttpsAgent } from 'node:https';
import avro from 'avsc';
import type { Middleware, Response } from 'mappersmith';
import { TimeoutMiddleware } from 'mappersmith/middleware/timeout';
import type { RegistrySecurity } from '../connection-security';
import { DecodeError } from '../errors';
import {
  isRegistryNotFound,
  REGISTRY_CLIENT_ID,
  toCdcError,
  type RegistryOperation,
} from './registry-errors';

/**
 * The schema registry (Confluent Schema Registry, or Apicurio Registry under /apis/ccompat/v7),
 * through @kafkajs/confluent-schema-registry: its `getSchema(id)` fetches a writer schema once,
 * parses it into an avsc Type and caches it (concurrent misses share one request), so decoding
 * stays synchronous once a schema is known. Every error leaves as a CdcError (registry-errors.ts).
 *
 * How we configure the library, and why:
 *  - no retries of its own (it retries GETs 3 times by default): a stage that waits for the
 *    registry backs off itself and says so in its logs and metrics; hidden retries only stall;
 *  - a timeout on every request (it has none by default);
 *  - registration uses its plain `POST /subjects/{subject}/versions` resource, not its `register()`,
 *    which also manages the subject's compatibility level (sets it on a subject's first
 *    registration, and throws when the level differs — on Apicurio, where a subject without a
 *    level of its own reports the global NONE, always). Levels are set by `cdc schemas register`
 *    alone (`setCompatibility`), never by a service at start.
 */
export interface RegistryClient {
  readonly baseUrl: string;
  /** Registers `schema` under `subject` (idempotent: the same schema gets the same id). Leaves the subject's compatibility level alone. */
  register(subject: string, schema: string): Promise<number>;
  /** The writer schema with this id, as an avsc Type. DecodeError UNKNOWN_SCHEMA_ID when the registry does not hold it. */
  schemaById(id: number): Promise<avro.Type>;
  setCompatibility(subject: string, level: CompatibilityLevel): Promise<void>;
  /** Whether `schema` may follow the subject's latest version under its level; null when the subject has no versions. */
  checkCompatibility(
    subject: string,
    schema: string,
  ): Promise<{ compatible: boolean; messages: string[] } | null>;
  subjects(): Promise<string[]>;
}

export type CompatibilityLevel = 'BACKWARD' | 'NONE' | 'FULL' | 'FORWARD';

export interface RegistryClientOptions {
  /** Per request (a socket idle this long is given up). Default 5 s. */
  timeoutMs?: number;
}

/** The library's resources we call, typed (its own typings return `any`). */
interface RegistryApi {
  Subject: {
    all(params: object): Promise<Response>;
    register(params: { subject: string; body: { schema: string } }): Promise<Response>;
    updateConfig(params: { subject: string; body: { compatibility: string } }): Promise<Response>;
    compatible(params: { subject: string; verbose: boolean; body: { schema: string } }): Promise<Response>;
  };
}

/** Where the registry is and how to authenticate to it (a ConnectionConfig is one), or just its URL. */
export type RegistryTarget = string | { registryUrl: string; registrySecurity: RegistrySecurity };

/** `Authorization: Bearer <token>` on every request (the library itself knows only basic auth). */
const bearerAuth =
  (token: string): Middleware =>
  () => ({
    async prepareRequest(next) {
      const request = await next();
      return request.enhance({ headers: { authorization: `Bearer ${token}` } });
    },
  });

/** The `Authorization` header for a registry request made without the client (none without credentials). */
export function registryAuthHeaders(security: RegistrySecurity): Record<string, string> {
  if (security.token !== undefined) return { authorization: `Bearer ${security.token}` };
  if (security.basic === undefined) return {};
  const { username, password } = security.basic;
  return { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
}

/** The library's options for the registry's credentials and CA. */
function securityArgs(security: RegistrySecurity | undefined) {
  return {
    ...(security?.basic
      ? { auth: { username: security.basic.username, password: security.basic.password } }
      : {}),
    ...(security?.ca ? { agent: new HttpsAgent({ ca: security.ca, keepAlive: true }) } : {}),
    bearer: security?.token === undefined ? [] : [bearerAuth(security.token)],
  };
}

export function createRegistryClient(
  target: RegistryTarget,
  options: RegistryClientOptions = {},
): RegistryClient {
  const baseUrl = typeof target === 'string' ? target : target.registryUrl;
  const base = baseUrl.replace(/\/+$/, '');
  const { bearer, ...security } = securityArgs(
    typeof target === 'string' ? undefined : target.registrySecurity,
  );
  const args = {
    host: base,
    clientId: REGISTRY_CLIENT_ID,
    retry: { retries: 0 },
    middlewares: [TimeoutMiddleware(options.timeoutMs ?? 5000), ...bearer],
    ...security,
  };
  const library = new SchemaRegistry(args);
  // The same HTTP client the library builds for itself (same middleware), for the resources its
  // class does not expose: plain registration, compatibility levels and checks, the subject list.
  const api = createRegistryApi(args) as unknown as RegistryApi;

  async function call<T>(op: RegistryOperation, what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw toCdcError(err, op, what, base);
    }
  }

  return {
    baseUrl: base,
    register: (subject, schema) =>
      call('register', `registering under ${subject}`, async () => {
        const res = await api.Subject.register({ subject, body: { schema } });
        return res.data<{ id: number }>().id;
      }),
    schemaById: (id) =>
      call('schemaById', `schema id ${id}`, async () => {
        const schema = await library.getSchema(id);
        if (!avro.Type.isType(schema)) {
          throw new DecodeError('SCHEMA_MISMATCH', `schema id ${id} is not an Avro schema`);
        }
        return schema as unknown as avro.Type; // isType is avsc's own check (untyped as a guard)
      }),
    setCompatibility: (subject, level) =>
      call('setCompatibility', `setting ${subject} to ${level}`, async () => {
        await api.Subject.updateConfig({ subject, body: { compatibility: level } });
      }),
    checkCompatibility: (subject, schema) =>
      call('checkCompatibility', `checking against ${subject}`, async () => {
        try {
          const res = await api.Subject.compatible({ subject, verbose: true, body: { schema } });
          const r = res.data<{ is_compatible: boolean; messages?: string[] }>();
          return { compatible: r.is_compatible, messages: r.messages ?? [] };
        } catch (err) {
          if (isRegistryNotFound(err)) return null; // the subject has no versions yet
          throw err;
        }
      }),
    subjects: () =>
      call('subjects', 'listing subjects', async () => (await api.Subject.all({})).data<string[]>()),
  };
}
