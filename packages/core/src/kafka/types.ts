/**
 * The kafkajs types the rest of the code base names, re-exported so that only this folder
 * imports kafkajs. Each is the client's own type, not a wrapper.
 */
export type {
  /** A client: what `createKafka` returns and every producer, consumer and admin is made from. */
  Kafka,
  /** An admin client (topics, offsets, groups); `withAdmin` connects and disconnects one. */
  Admin,
  /** A consumer; `createPipelineConsumer` makes the pipeline's. */
  Consumer,
  /** A producer: idempotent or transactional (`newTransactionalProducer`). */
  Producer,
  /** One open transaction of a transactional producer. */
  Transaction,
  /** A record as a consumer receives it (offset, key, value, headers, timestamp). */
  KafkaMessage,
  /** A record as a producer sends it. */
  Message,
  /** Record headers. */
  IHeaders,
  /** The records of one topic in a produce request. */
  TopicMessages,
  /** Consumed offsets of one topic, as a transaction commits them. */
  TopicOffsets,
  /** What a consumer's `eachBatch` handler receives: one partition's batch and its controls. */
  EachBatchPayload,
  /** A partition's leader and replicas, from topic metadata. */
  PartitionMetadata,
  /** A producer's partitioner factory (`KeyPartitioner` is one). */
  ICustomPartitioner,
} from 'kafkajs';
