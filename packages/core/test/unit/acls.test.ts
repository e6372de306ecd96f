import { ACL_SERVICES, aclsFor, kafkaAclsCommand, topicNames } from '../../src';

describe('the ACL table', () => {
  it('gives the enricher exactly its topics, its groups and transactional ids, and idempotent writes', () => {
    const names = topicNames('p.');
    const acls = aclsFor('enricher', 'p.');
    const topic = (name: string) =>
      acls.find((a) => a.resourceType === 'TOPIC' && a.resourceName === name)?.operations;
    expect(topic(names.bronze)).toEqual(['READ', 'DESCRIBE']);
    expect(topic(names.silver)).toEqual(['WRITE', 'DESCRIBE']);
    expect(topic(names.gold)).toBeUndefined();
    expect(acls).toContainEqual({
      resourceType: 'GROUP',
      resourceName: 'p.cdc-enricher',
      patternType: 'PREFIXED',
      operations: ['READ', 'DESCRIBE', 'DELETE'],
    });
    expect(acls).toContainEqual({
      resourceType: 'TRANSACTIONAL_ID',
      resourceName: 'p.cdc-enricher.',
      patternType: 'PREFIXED',
      operations: ['WRITE', 'DESCRIBE'],
    });
    expect(acls).toContainEqual({
      resourceType: 'CLUSTER',
      resourceName: 'kafka-cluster',
      patternType: 'LITERAL',
      operations: ['IDEMPOTENT_WRITE'],
    });
  });

  it('gives no service but cdc the right to create topics or change configs', () => {
    for (const service of ACL_SERVICES.filter((s) => s !== 'cdc')) {
      const ops = aclsFor(service, 'p.').flatMap((a) => a.operations);
      expect(ops).not.toContain('CREATE');
      expect(ops).not.toContain('ALTER_CONFIGS');
    }
    expect(aclsFor('cdc', '')[0]).toMatchObject({ resourceName: '*', patternType: 'LITERAL' });
    expect(aclsFor('cdc', 'p.')[0]).toMatchObject({ resourceName: 'p.', patternType: 'PREFIXED' });
  });

  it('prints kafka-acls.sh commands', () => {
    const [first] = aclsFor('aggregator', 'p.');
    expect(kafkaAclsCommand(first!, 'User:agg')).toBe(
      `kafka-acls.sh --bootstrap-server "$KAFKA_BROKERS" --command-config "$KAFKA_ADMIN_CONFIG" --add --allow-principal 'User:agg' --operation Read --operation Describe --topic 'p.movies.booking-enriched.v1'`,
    );
  });
});
