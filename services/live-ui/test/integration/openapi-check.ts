import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/**
 * Checks real responses against the server's own OpenAPI description (fetched from
 * /api/openapi.json): the status must be documented for the operation, the content type must be
 * one it documents, and a JSON body must validate against the schema (JSON Schema 2020-12, as
 * OpenAPI 3.1 defines it). A request to an /api path or method the description does not list
 * must be refused with the documented Error body. The page and its files are not API and are not
 * checked.
 */
interface Operation {
  responses: Record<string, { content?: Record<string, unknown> }>;
}
interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
}

const pointer = (...parts: string[]) =>
  parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

export class ApiDescription {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly compiled = new Map<string, ValidateFunction>();

  private constructor(readonly doc: OpenApiDoc) {
    addFormats(this.ajv);
    this.ajv.addSchema(doc, 'api');
  }

  static async load(baseUrl: string): Promise<ApiDescription> {
    const res = await fetch(`${baseUrl}/api/openapi.json`);
    if (res.status !== 200) throw new Error(`GET /api/openapi.json: HTTP ${res.status}`);
    return new ApiDescription((await res.json()) as OpenApiDoc);
  }

  private validator(ref: string): ValidateFunction {
    let v = this.compiled.get(ref);
    if (!v) {
      v = this.ajv.getSchema(ref);
      if (!v) throw new Error(`no schema at ${ref}`);
      this.compiled.set(ref, v);
    }
    return v;
  }

  private validate(ref: string, data: unknown, what: string): void {
    const v = this.validator(ref);
    if (!v(data)) {
      throw new Error(`${what} does not match the API description: ${this.ajv.errorsText(v.errors)}`);
    }
  }

  /** Throws unless the response is what the description says; returns it for chaining. */
  async check(method: string, url: string, res: Response): Promise<Response> {
    const path = new URL(url, 'http://localhost').pathname;
    const what = `${method} ${path} → ${res.status}`;
    const type = (res.headers.get('content-type') ?? '').split(';', 1)[0]!.trim();
    const described = this.doc.paths[path];
    if (!described && !path.startsWith('/api/')) return res;
    if (path.startsWith('/api/docs')) return res;
    const op = described?.[method.toLowerCase()];
    const body = method === 'HEAD' ? '' : await res.clone().text();
    if (!op) {
      if (res.status < 400) throw new Error(`${what}: not in the API description`);
      if (type !== 'application/json') throw new Error(`${what}: error as ${type}, not JSON`);
      this.validate('api#/components/schemas/Error', JSON.parse(body), what);
      return res;
    }
    const status = String(res.status);
    const response = op.responses[status] ?? op.responses.default;
    if (!response)
      throw new Error(`${what}: status not documented (${Object.keys(op.responses).join(', ')})`);
    if (!response.content?.[type]) {
      throw new Error(
        `${what}: content type ${type} not documented (${Object.keys(response.content ?? {}).join(', ')})`,
      );
    }
    if (type === 'application/json' && method !== 'HEAD') {
      const ref = `api#/${pointer('paths', path, method.toLowerCase(), 'responses', response === op.responses[status] ? status : 'default', 'content', type, 'schema')}`;
      this.validate(ref, JSON.parse(body), what);
    }
    return res;
  }
}
