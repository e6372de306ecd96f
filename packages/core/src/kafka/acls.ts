import { topicNames, type TopicNames } from '../topics';

/**
 * What each process of the pipeline may do on a cluster with an authorizer: the one table of
 * Kafka ACLs, per service, for a principal and a topic prefix. `cdc acls` prints it (as
 * kafka-acls.sh commands or JSON) and README "Deploying against your cluster" explains it.
 *
 * Derived from what each service calls (services/<name>/src): its consumer groups are
 * `<prefix>cdc-<service>` and groups under that name (readers of a topic range use throwaway
 * groups `<group>.<suffix>` and delete them), transactional ids `<enricher group>.<instance>`.
 * Every producer is idempotent (IdempotentWrite on the cluster). Only `cdc` itself creates
 * topics, sets their configs and registers schemas; a service never does.
 */
export type AclResourceType = 'TOPIC' | 'GROUP' | 'TRANSACTIONAL_ID' | 'CLUSTER';
export type AclOperation =
  | 'READ'
  | 'WRITE'
  | 'DESCRIBE'
  | 'CREATE'
  | 'DELETE'
  | 'ALTER_CONFIGS'
  | 'DESCRIBE_CONFIGS'
  | 'IDEMPOTENT_WRITE';

export interface AclEntry {
  resourceType: AclResourceType;
  resourceName: string;
  patternType: 'LITERAL' | 'PREFIXED';
  operations: AclOperation[];
}

export const ACL_SERVICES = ['producer', 'enricher', 'aggregator', 'alerts', 'live-ui', 'cdc'] as const;
export type AclService = (typeof ACL_SERVICES)[number];

type TopicKey = keyof TopicNames;
const READ: AclOperation[] = ['READ', 'DESCRIBE'];
const WRITE: AclOperation[] = ['WRITE', 'DESCRIBE'];
const GROUP_OWNER: AclOperation[] = ['READ', 'DESCRIBE', 'DELETE'];

interface ServiceNeeds {
  read: TopicKey[];
  write: TopicKey[];
  /** Groups it owns (the name and every group under it). */
  group: string;
  /** It reports other groups' lag: DESCRIBE on every group of the pipeline. */
  describesGroups?: boolean;
  /** Transactional ids under this name. */
  transactionalIds?: string;
}

const NEEDS: Record<Exclude<AclService, 'cdc'>, ServiceNeeds> = {
  producer: { read: ['bronze'], write: ['bronze'], group: 'cdc-import' },
  enricher: {
    read: ['bronze', 'control', 'deadLetter'],
    write: ['silver', 'deadLetter', 'control'],
    group: 'cdc-enricher',
    transactionalIds: 'cdc-enricher.',
  },
  aggregator: { read: ['silver'], write: ['gold'], group: 'cdc-aggregator' },
  alerts: {
    read: ['bronze', 'silver', 'deadLetter', 'gold', 'alerts'],
    write: ['alerts'],
    group: 'cdc-alerts',
    describesGroups: true,
  },
  'live-ui': {
    read: ['bronze', 'silver', 'deadLetter', 'gold', 'alerts', 'control'],
    write: ['control'],
    group: 'cdc-live-ui',
    describesGroups: true,
  },
};

function serviceAcls(needs: ServiceNeeds, prefix: string): AclEntry[] {
  const names = topicNames(prefix);
  const topics = new Map<string, Set<AclOperation>>();
  for (const [keys, ops] of [
    [needs.read, READ],
    [needs.write, WRITE],
  ] as const) {
    for (const key of keys) {
      const set = topics.get(names[key]) ?? new Set<AclOperation>();
      ops.forEach((op) => set.add(op));
      topics.set(names[key], set);
    }
  }
  const entries: AclEntry[] = [...topics].map(([name, ops]) => ({
    resourceType: 'TOPIC',
    resourceName: name,
    patternType: 'LITERAL',
    operations: [...ops],
  }));
  entries.push({
    resourceType: 'GROUP',
    resourceName: prefix + needs.group,
    patternType: 'PREFIXED',
    operations: GROUP_OWNER,
  });
  if (needs.describesGroups) {
    entries.push({
      resourceType: 'GROUP',
      resourceName: `${prefix}cdc-`,
      patternType: 'PREFIXED',
      operations: ['DESCRIBE'],
    });
  }
  if (needs.transactionalIds) {
    entries.push({
      resourceType: 'TRANSACTIONAL_ID',
      resourceName: prefix + needs.transactionalIds,
      patternType: 'PREFIXED',
      operations: WRITE,
    });
  }
  entries.push({
    resourceType: 'CLUSTER',
    resourceName: 'kafka-cluster',
    patternType: 'LITERAL',
    operations: ['IDEMPOTENT_WRITE'],
  });
  return entries;
}

/** `cdc` (topics create, schemas, backfill, dlq replay, status): the operator's tool, everything under the prefix. */
function operatorAcls(prefix: string): AclEntry[] {
  const topicPattern =
    prefix === ''
      ? { resourceName: '*', patternType: 'LITERAL' as const }
      : { resourceName: prefix, patternType: 'PREFIXED' as const };
  return [
    {
      resourceType: 'TOPIC',
      ...topicPattern,
      operations: ['CREATE', 'DELETE', 'READ', 'WRITE', 'DESCRIBE', 'DESCRIBE_CONFIGS', 'ALTER_CONFIGS'],
    },
    {
      resourceType: 'GROUP',
      resourceName: `${prefix}cdc`,
      patternType: 'PREFIXED',
      operations: ['READ', 'DESCRIBE', 'DELETE'],
    },
    {
      resourceType: 'TRANSACTIONAL_ID',
      resourceName: `${prefix}cdc`,
      patternType: 'PREFIXED',
      operations: WRITE,
    },
    {
      resourceType: 'CLUSTER',
      resourceName: 'kafka-cluster',
      patternType: 'LITERAL',
      operations: ['IDEMPOTENT_WRITE', 'DESCRIBE'],
    },
  ];
}

/** The ACLs `service` needs under topic prefix `prefix` (the same prefix as TOPIC_PREFIX). */
export function aclsFor(service: AclService, prefix = ''): AclEntry[] {
  return service === 'cdc' ? operatorAcls(prefix) : serviceAcls(NEEDS[service], prefix);
}

const CLI_OPERATION: Record<AclOperation, string> = {
  READ: 'Read',
  WRITE: 'Write',
  DESCRIBE: 'Describe',
  CREATE: 'Create',
  DELETE: 'Delete',
  ALTER_CONFIGS: 'AlterConfigs',
  DESCRIBE_CONFIGS: 'DescribeConfigs',
  IDEMPOTENT_WRITE: 'IdempotentWrite',
};

const CLI_RESOURCE: Record<AclResourceType, (name: string) => string> = {
  TOPIC: (name) => `--topic '${name}'`,
  GROUP: (name) => `--group '${name}'`,
  TRANSACTIONAL_ID: (name) => `--transactional-id '${name}'`,
  CLUSTER: () => '--cluster',
};

/** One `kafka-acls.sh --add` command per entry (the admin's connection settings in $KAFKA_ADMIN_CONFIG). */
export function kafkaAclsCommand(entry: AclEntry, principal: string): string {
  return [
    'kafka-acls.sh --bootstrap-server "$KAFKA_BROKERS" --command-config "$KAFKA_ADMIN_CONFIG" --add',
    `--allow-principal '${principal}'`,
    ...entry.operations.map((op) => `--operation ${CLI_OPERATION[op]}`),
    CLI_RESOURCE[entry.resourceType](entry.resourceName),
    ...(entry.patternType === 'PREFIXED' ? ['--resource-pattern-type prefixed'] : []),
  ].join(' ');
}
