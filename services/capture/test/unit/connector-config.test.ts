import { connectorConfig } from '../../src/source/connector';
import { planSource } from '../../src/source/source';

const connection = {
  brokers: ['127.0.0.1:9092'],
  registryUrl: 'http://127.0.0.1:8081/apis/ccompat/v7',
  topicPrefix: '',
} as unknown as Parameters<typeof planSource>[0]['connection'];

describe('the connector reaches the database as Connect does', () => {
  it('the same address as this host by default', () => {
    const plan = planSource({
      connection,
      databaseUrl: 'postgres://cdc:secret@127.0.0.1:5432/bookings',
      connectUrl: 'http://127.0.0.1:8083',
    });
    expect(connectorConfig(plan)).toMatchObject({
      'database.hostname': '127.0.0.1',
      'database.port': '5432',
      'database.user': 'cdc',
      'database.password': 'secret',
      'database.dbname': 'bookings',
    });
  });

  it('CONNECT_DATABASE_URL: another host name from a Connect container, the checks still from here', () => {
    const plan = planSource({
      connection,
      databaseUrl: 'postgres://cdc:secret@127.0.0.1:5432/bookings',
      connectDatabaseUrl: 'postgres://cdc:secret@postgres:5432/bookings',
      connectUrl: 'http://127.0.0.1:8083',
    });
    expect(plan.database.host).toBe('127.0.0.1');
    expect(connectorConfig(plan)).toMatchObject({ 'database.hostname': 'postgres', 'database.port': '5432' });
  });
});
