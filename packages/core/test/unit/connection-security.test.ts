import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, kafkaSecurityOptions, loadConnectionConfig, registryAuthHeaders } from '../../src';

const dir = mkdtempSync(path.join(tmpdir(), 'cdc-security-'));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};

function configError(env: Record<string, string>): string {
  try {
    loadConnectionConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('Kafka security settings', () => {
  it('defaults to PLAINTEXT with no SASL and no TLS', () => {
    const c = loadConnectionConfig({});
    expect(c.kafkaSecurity).toEqual({ protocol: 'PLAINTEXT' });
    expect(kafkaSecurityOptions(c.kafkaSecurity)).toEqual({});
    expect(c.registrySecurity).toEqual({});
  });

  it('reads SASL_SSL with SCRAM, the password from a file and a custom CA', () => {
    const c = loadConnectionConfig({
      KAFKA_SECURITY_PROTOCOL: 'sasl_ssl',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'enricher',
      KAFKA_SASL_PASSWORD_FILE: file('pw', 's3cret\n'),
      KAFKA_SSL_CA_FILE: file('ca.pem', 'CA PEM'),
    });
    expect(c.kafkaSecurity).toEqual({
      protocol: 'SASL_SSL',
      sasl: { mechanism: 'scram-sha-512', username: 'enricher', password: 's3cret' },
      tls: { ca: 'CA PEM' },
    });
    expect(kafkaSecurityOptions(c.kafkaSecurity)).toEqual({
      ssl: { rejectUnauthorized: true, ca: ['CA PEM'] },
      sasl: { mechanism: 'scram-sha-512', username: 'enricher', password: 's3cret' },
    });
  });

  it('names each missing SASL setting', () => {
    const message = configError({ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL' });
    expect(message).toContain('KAFKA_SASL_MECHANISM: required with a SASL protocol');
    expect(message).toContain('KAFKA_SASL_USERNAME: required');
    expect(message).toContain('KAFKA_SASL_PASSWORD: required');
  });

  it('refuses SASL or TLS settings the protocol would ignore, and an unknown protocol or mechanism', () => {
    expect(configError({ KAFKA_SASL_MECHANISM: 'plain' })).toContain(
      'KAFKA_SASL_MECHANISM: is set but KAFKA_SECURITY_PROTOCOL=PLAINTEXT',
    );
    expect(
      configError({
        KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT',
        KAFKA_SSL_CA_FILE: 'x',
        KAFKA_SASL_MECHANISM: 'plain',
        KAFKA_SASL_USERNAME: 'u',
        KAFKA_SASL_PASSWORD: 'p',
      }),
    ).toContain('KAFKA_SSL_CA_FILE: is set but KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT');
    expect(configError({ KAFKA_SECURITY_PROTOCOL: 'TLS' })).toContain(
      'KAFKA_SECURITY_PROTOCOL: "TLS" is not one of',
    );
    expect(
      configError({
        KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
        KAFKA_SASL_MECHANISM: 'gssapi',
        KAFKA_SASL_USERNAME: 'u',
        KAFKA_SASL_PASSWORD: 'p',
      }),
    ).toContain('KAFKA_SASL_MECHANISM: "gssapi" is not one of');
  });

  it('names an unreadable file, a password given twice and half a client certificate, without printing secrets', () => {
    const message = configError({
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: 'inline-secret',
      KAFKA_SASL_PASSWORD_FILE: file('pw2', 'file-secret'),
      KAFKA_SSL_CA_FILE: path.join(dir, 'missing.pem'),
      KAFKA_SSL_CERT_FILE: file('cert.pem', 'CERT'),
    });
    expect(message).toContain('KAFKA_SSL_CA_FILE: cannot read');
    expect(message).toContain('(ENOENT)');
    expect(message).toContain(
      'KAFKA_SASL_PASSWORD: set either KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE',
    );
    expect(message).toContain('KAFKA_SSL_KEY_FILE: mutual TLS needs both');
    expect(message).not.toContain('inline-secret');
    expect(message).not.toContain('file-secret');
  });
});

describe('registry security settings', () => {
  it('reads basic auth or a token, and builds the header', () => {
    const basic = loadConnectionConfig({ SCHEMA_REGISTRY_USERNAME: 'u', SCHEMA_REGISTRY_PASSWORD: 'p' });
    expect(registryAuthHeaders(basic.registrySecurity)).toEqual({ authorization: 'Basic dTpw' });
    const token = loadConnectionConfig({ SCHEMA_REGISTRY_TOKEN_FILE: file('token', 'tok\n') });
    expect(registryAuthHeaders(token.registrySecurity)).toEqual({ authorization: 'Bearer tok' });
  });

  it('refuses half a basic login, a token with a login, and a CA for an http:// URL', () => {
    expect(configError({ SCHEMA_REGISTRY_USERNAME: 'u' })).toContain(
      'SCHEMA_REGISTRY_PASSWORD: basic authentication needs both',
    );
    expect(
      configError({
        SCHEMA_REGISTRY_USERNAME: 'u',
        SCHEMA_REGISTRY_PASSWORD: 'p',
        SCHEMA_REGISTRY_TOKEN: 't',
      }),
    ).toContain('SCHEMA_REGISTRY_TOKEN: set either a token or a username and password');
    expect(configError({ SCHEMA_REGISTRY_CA_FILE: file('rca.pem', 'CA') })).toContain(
      'SCHEMA_REGISTRY_CA_FILE: is set but SCHEMA_REGISTRY_URL is not https://',
    );
  });

  it('reports Kafka and registry problems together', () => {
    const message = configError({ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', SCHEMA_REGISTRY_USERNAME: 'u' });
    expect(message).toContain('KAFKA_SASL_USERNAME');
    expect(message).toContain('SCHEMA_REGISTRY_PASSWORD');
  });
});
