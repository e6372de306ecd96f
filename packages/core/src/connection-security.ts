import { readFileSync } from 'node:fs';
import { ConfigError } from './errors';

/**
 * How every process authenticates to Kafka and to the schema registry: TLS with a custom CA (and
 * a client certificate for mTLS), SASL (PLAIN, SCRAM-SHA-256/512), HTTP basic or bearer auth for
 * the registry. Read and validated once with the rest of the connection settings; a file setting
 * is read here, so an unreadable file stops the process at start naming the setting.
 *
 * Secrets are kept as plain strings (worker threads receive this config by structured clone,
 * which drops class instances' private fields): they are never logged because nothing logs a
 * connection config, and the secured-stack tests grep every output for them.
 */
type Env = Record<string, string | undefined>;

export const KAFKA_SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export type KafkaSecurityProtocol = (typeof KAFKA_SECURITY_PROTOCOLS)[number];
export const KAFKA_SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

export interface TlsFiles {
  /** PEM of the CA(s) to trust instead of the system's; undefined = the system's CAs. */
  ca?: string;
  /** Client certificate and key (PEM) for mutual TLS. */
  cert?: string;
  key?: string;
}

export interface KafkaSecurity {
  protocol: KafkaSecurityProtocol;
  /** Set exactly when the protocol is SASL_*. */
  sasl?: { mechanism: KafkaSaslMechanism; username: string; password: string };
  /** Set exactly when the protocol is SSL or SASL_SSL. */
  tls?: TlsFiles;
}

export interface RegistrySecurity {
  basic?: { username: string; password: string };
  token?: string;
  /** PEM of the CA(s) to trust for an https:// registry. */
  ca?: string;
}

export const PLAINTEXT: KafkaSecurity = { protocol: 'PLAINTEXT' };

/** Collects every problem before throwing, so one start names every setting to fix. */
class Problems {
  readonly lines: string[] = [];
  add(setting: string, message: string): void {
    this.lines.push(`  ${setting}: ${message}`);
  }
  throwIfAny(): void {
    if (this.lines.length > 0) throw new ConfigError(`Invalid configuration:\n${this.lines.join('\n')}`);
  }
}

const value = (env: Env, name: string): string | undefined => {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
};

function readSettingFile(env: Env, name: string, problems: Problems): string | undefined {
  const file = value(env, name);
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'unreadable';
    problems.add(name, `cannot read ${JSON.stringify(file)} (${code}); point it at a readable file`);
    return undefined;
  }
}

/** A secret given either inline (NAME) or in a file (NAME_FILE, trailing newline dropped). */
function readSecret(env: Env, name: string, problems: Problems): string | undefined {
  const inline = env[name];
  const fromFile = readSettingFile(env, `${name}_FILE`, problems);
  if (inline !== undefined && inline !== '' && value(env, `${name}_FILE`) !== undefined) {
    problems.add(name, `set either ${name} or ${name}_FILE, not both`);
    return undefined;
  }
  const secret = fromFile?.replace(/\r?\n$/, '') ?? inline;
  return secret === undefined || secret === '' ? undefined : secret;
}

const TLS_FILES = ['KAFKA_SSL_CA_FILE', 'KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE'] as const;
const SASL_SETTINGS = [
  'KAFKA_SASL_MECHANISM',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
  'KAFKA_SASL_PASSWORD_FILE',
] as const;

function kafkaProtocol(env: Env, problems: Problems): KafkaSecurityProtocol {
  const raw = value(env, 'KAFKA_SECURITY_PROTOCOL')?.toUpperCase() ?? 'PLAINTEXT';
  if ((KAFKA_SECURITY_PROTOCOLS as readonly string[]).includes(raw)) return raw as KafkaSecurityProtocol;
  problems.add(
    'KAFKA_SECURITY_PROTOCOL',
    `${JSON.stringify(env.KAFKA_SECURITY_PROTOCOL)} is not one of ${KAFKA_SECURITY_PROTOCOLS.join(', ')}`,
  );
  return 'PLAINTEXT';
}

function kafkaSasl(env: Env, problems: Problems): KafkaSecurity['sasl'] {
  const raw = value(env, 'KAFKA_SASL_MECHANISM')?.toLowerCase();
  const username = value(env, 'KAFKA_SASL_USERNAME');
  const password = readSecret(env, 'KAFKA_SASL_PASSWORD', problems);
  let ok = true;
  if (raw === undefined || !(KAFKA_SASL_MECHANISMS as readonly string[]).includes(raw)) {
    problems.add(
      'KAFKA_SASL_MECHANISM',
      raw === undefined
        ? `required with a SASL protocol: one of ${KAFKA_SASL_MECHANISMS.join(', ')}`
        : `${JSON.stringify(raw)} is not one of ${KAFKA_SASL_MECHANISMS.join(', ')}`,
    );
    ok = false;
  }
  if (username === undefined) {
    problems.add('KAFKA_SASL_USERNAME', 'required with a SASL protocol');
    ok = false;
  }
  if (password === undefined) {
    problems.add('KAFKA_SASL_PASSWORD', 'required with a SASL protocol (or KAFKA_SASL_PASSWORD_FILE)');
    ok = false;
  }
  return ok ? { mechanism: raw as KafkaSaslMechanism, username: username!, password: password! } : undefined;
}

function tlsFiles(
  env: Env,
  names: { ca: string; cert?: string; key?: string },
  problems: Problems,
): TlsFiles {
  const ca = readSettingFile(env, names.ca, problems);
  const cert = names.cert ? readSettingFile(env, names.cert, problems) : undefined;
  const key = names.key ? readSettingFile(env, names.key, problems) : undefined;
  if (
    names.cert &&
    names.key &&
    (value(env, names.cert) !== undefined) !== (value(env, names.key) !== undefined)
  ) {
    problems.add(
      value(env, names.cert) ? names.key : names.cert,
      `mutual TLS needs both ${names.cert} and ${names.key}`,
    );
  }
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

/** KAFKA_SECURITY_PROTOCOL and the SASL and TLS settings it needs (and only those). */
export function loadKafkaSecurity(env: Env, problems = new Problems()): KafkaSecurity {
  const protocol = kafkaProtocol(env, problems);
  const usesSasl = protocol.startsWith('SASL_');
  const usesTls = protocol === 'SSL' || protocol === 'SASL_SSL';
  if (!usesSasl) {
    for (const name of SASL_SETTINGS) {
      if (value(env, name) !== undefined) {
        problems.add(
          name,
          `is set but KAFKA_SECURITY_PROTOCOL=${protocol}; use SASL_SSL (or SASL_PLAINTEXT) to authenticate with SASL`,
        );
      }
    }
  }
  if (!usesTls) {
    for (const name of TLS_FILES) {
      if (value(env, name) !== undefined) {
        problems.add(
          name,
          `is set but KAFKA_SECURITY_PROTOCOL=${protocol}; use SSL or SASL_SSL to connect with TLS`,
        );
      }
    }
  }
  const sasl = usesSasl ? kafkaSasl(env, problems) : undefined;
  const tls = usesTls
    ? tlsFiles(
        env,
        { ca: 'KAFKA_SSL_CA_FILE', cert: 'KAFKA_SSL_CERT_FILE', key: 'KAFKA_SSL_KEY_FILE' },
        problems,
      )
    : undefined;
  problems.throwIfAny();
  return { protocol, ...(sasl ? { sasl } : {}), ...(tls ? { tls } : {}) };
}

/** SCHEMA_REGISTRY_USERNAME/PASSWORD(_FILE) or SCHEMA_REGISTRY_TOKEN(_FILE), and SCHEMA_REGISTRY_CA_FILE. */
export function loadRegistrySecurity(
  env: Env,
  registryUrl: string,
  problems = new Problems(),
): RegistrySecurity {
  const username = value(env, 'SCHEMA_REGISTRY_USERNAME');
  const password = readSecret(env, 'SCHEMA_REGISTRY_PASSWORD', problems);
  const token = readSecret(env, 'SCHEMA_REGISTRY_TOKEN', problems);
  if ((username === undefined) !== (password === undefined)) {
    problems.add(
      username === undefined ? 'SCHEMA_REGISTRY_USERNAME' : 'SCHEMA_REGISTRY_PASSWORD',
      'basic authentication needs both SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD (or _FILE)',
    );
  }
  if (token !== undefined && username !== undefined) {
    problems.add('SCHEMA_REGISTRY_TOKEN', 'set either a token or a username and password, not both');
  }
  const tls = tlsFiles(env, { ca: 'SCHEMA_REGISTRY_CA_FILE' }, problems);
  if (tls.ca !== undefined && !registryUrl.startsWith('https:')) {
    problems.add(
      'SCHEMA_REGISTRY_CA_FILE',
      `is set but SCHEMA_REGISTRY_URL is not https:// (${registryUrl})`,
    );
  }
  problems.throwIfAny();
  return {
    ...(username && password ? { basic: { username, password } } : {}),
    ...(token && !username ? { token } : {}),
    ...(tls.ca ? { ca: tls.ca } : {}),
  };
}

/** Both, collecting every problem of both before throwing. */
export function loadConnectionSecurity(
  env: Env,
  registryUrl: string,
): { kafkaSecurity: KafkaSecurity; registrySecurity: RegistrySecurity } {
  const problems = new Problems();
  let kafkaSecurity: KafkaSecurity = PLAINTEXT;
  try {
    kafkaSecurity = loadKafkaSecurity(env, problems);
  } catch {
    /* collected; thrown below with the registry's problems */
  }
  const registrySecurity = loadRegistrySecurity(env, registryUrl, problems);
  return { kafkaSecurity, registrySecurity };
}

/** The secrets in a security config, for tests and redaction (never to print). */
export function secretsOf(s: { kafkaSecurity: KafkaSecurity; registrySecurity: RegistrySecurity }): string[] {
  return [
    s.kafkaSecurity.sasl?.password,
    s.registrySecurity.basic?.password,
    s.registrySecurity.token,
  ].filter((x): x is string => x !== undefined);
}
