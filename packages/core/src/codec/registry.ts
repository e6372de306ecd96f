import { RegistryError } from '../errors';

/**
 * A small client for the Confluent-compatible schema registry API (Confluent Schema Registry,
 * or Apicurio Registry under /apis/ccompat/v7). Network failures and 5xx are retriable;
 * 4xx are final. Every call has a timeout.
 */
export interface RegistryClient {
  readonly baseUrl: string;
  register(subject: string, schema: string): Promise<number>;
  schemaById(id: number): Promise<string>;
  setCompatibility(subject: string | null, level: 'BACKWARD' | 'NONE' | 'FULL' | 'FORWARD'): Promise<void>;
  checkCompatibility(
    subject: string,
    schema: string,
  ): Promise<{ compatible: boolean; messages: string[] } | null>;
  subjects(): Promise<string[]>;
}

export function createRegistryClient(baseUrl: string, options: { timeoutMs?: number } = {}): RegistryClient {
  const timeoutMs = options.timeoutMs ?? 5000;
  const base = baseUrl.replace(/\/+$/, '');

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(base + path, {
        method,
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json', accept: 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new RegistryError(
        `schema registry at ${base} did not answer ${method} ${path}: ${describe(err)}`,
        {
          retriable: true,
          cause: err,
        },
      );
    }
    const text = await res.text();
    if (!res.ok) {
      throw new RegistryError(
        `schema registry ${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`,
        {
          status: res.status,
          retriable: res.status >= 500,
        },
      );
    }
    return (text ? JSON.parse(text) : {}) as T;
  }

  const enc = encodeURIComponent;
  return {
    baseUrl: base,
    async register(subject, schema) {
      const r = await call<{ id: number }>('POST', `/subjects/${enc(subject)}/versions`, { schema });
      return r.id;
    },
    async schemaById(id) {
      const r = await call<{ schema: string }>('GET', `/schemas/ids/${id}`);
      return r.schema;
    },
    async setCompatibility(subject, level) {
      await call('PUT', subject === null ? '/config' : `/config/${enc(subject)}`, { compatibility: level });
    },
    async checkCompatibility(subject, schema) {
      try {
        const r = await call<{ is_compatible: boolean; messages?: string[] }>(
          'POST',
          `/compatibility/subjects/${enc(subject)}/versions/latest?verbose=true`,
          { schema },
        );
        return { compatible: r.is_compatible, messages: r.messages ?? [] };
      } catch (err) {
        if (err instanceof RegistryError && err.status === 404) return null;
        throw err;
      }
    },
    subjects: () => call<string[]>('GET', '/subjects'),
  };
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? err.message;
  }
  return String(err);
}
