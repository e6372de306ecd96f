import { CdcError, isBrokerOutage, kafkaAccessError } from '../../src';

/** Errors shaped as kafkajs 2.2.4 builds them (name, type, code, cause). */
const kafkajsError = (name: string, message: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), { name, ...extra });

describe('Kafka access errors', () => {
  it('maps a failed SASL login to CONFIG_INVALID naming the settings, and not to an outage', () => {
    const err = kafkajsError(
      'KafkaJSSASLAuthenticationError',
      'SASL SCRAM SHA512 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512',
    );
    const mapped = kafkaAccessError(err);
    expect(mapped).toBeInstanceOf(CdcError);
    expect(mapped?.code).toBe('CONFIG_INVALID');
    expect(mapped?.message).toContain('KAFKA_SASL_PASSWORD');
    expect(isBrokerOutage(err)).toBe(false);
  });

  it('maps an untrusted certificate (through a retries-exhausted wrapper) to KAFKA_SSL_CA_FILE', () => {
    const cause = kafkajsError(
      'KafkaJSConnectionError',
      'Connection error: self-signed certificate in certificate chain',
      {
        code: 'SELF_SIGNED_CERT_IN_CHAIN',
      },
    );
    const err = kafkajsError('KafkaJSNumberOfRetriesExceeded', cause.message, { cause });
    expect(kafkaAccessError(err)?.message).toContain('KAFKA_SSL_CA_FILE');
    expect(isBrokerOutage(cause)).toBe(false);
  });

  it('maps a TLS client against a plaintext listener to KAFKA_SECURITY_PROTOCOL', () => {
    const err = kafkajsError('KafkaJSConnectionError', 'Connection error: ... wrong version number', {
      code: 'ERR_SSL_WRONG_VERSION_NUMBER',
    });
    expect(kafkaAccessError(err)?.message).toContain('KAFKA_SECURITY_PROTOCOL');
  });

  it.each([
    ['TOPIC_AUTHORIZATION_FAILED', 'TOPIC'],
    ['GROUP_AUTHORIZATION_FAILED', 'GROUP'],
    ['TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID'],
    ['CLUSTER_AUTHORIZATION_FAILED', 'CLUSTER'],
  ])('names the missing ACL for %s', (type, resource) => {
    const err = kafkajsError('KafkaJSProtocolError', 'Not authorized', { type });
    const mapped = kafkaAccessError(err);
    expect(mapped?.code).toBe('CONFIG_INVALID');
    expect(mapped?.message).toContain(`(${type})`);
    expect(mapped?.message).toContain(`${resource} resource`);
    expect(mapped?.message).toContain('cdc acls');
  });

  it('leaves outages and other errors alone', () => {
    const refused = kafkajsError('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED', {
      code: 'ECONNREFUSED',
    });
    expect(kafkaAccessError(refused)).toBeUndefined();
    expect(isBrokerOutage(refused)).toBe(true);
    expect(kafkaAccessError(new Error('boom'))).toBeUndefined();
  });
});
