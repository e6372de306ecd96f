import { createRegistryClient, loadConnectionConfig, topicNames, valueSubject } from '@cdc/core';
import { randomSuffix, runCdc } from '@cdc/testing';

/** `cdc schemas register` sets the levels (services never do); `cdc schemas check` reads them. */

describe('cdc schemas register / check', () => {
  const prefix = `test-schemas-${randomSuffix()}.`;
  const connection = loadConnectionConfig({ ...process.env, TOPIC_PREFIX: prefix });
  const registry = createRegistryClient(connection.registryUrl);
  const topics = topicNames(prefix);
  const subjects = [topics.bronze, topics.silver, topics.gold, topics.control, topics.alerts].map(
    valueSubject,
  );

  /**
   * Runs `cdc <args>` on the topics under `topicPrefix`; its exit code and output (stdout, and
   * stderr after it when it fails).
   */
  const cdc = async (
    topicPrefix: string,
    ...args: string[]
  ): Promise<{ code: number | null; stdout: string }> => {
    const r = await runCdc(args, { connection, env: { TOPIC_PREFIX: topicPrefix, LOG_LEVEL: 'warn' } });
    return { code: r.code, stdout: r.code === 0 ? r.stdout : `${r.stdout}${r.stderr}` };
  };
  const levelOf = async (subject: string): Promise<unknown> =>
    (
      (await (await fetch(`${registry.baseUrl}/config/${subject}`)).json()) as {
        compatibilityLevel?: unknown;
      }
    ).compatibilityLevel;

  it('registers every subject at BACKWARD, idempotently, and the check passes', async () => {
    const first = await cdc(prefix, 'schemas', 'register');
    expect(first.code).toBe(0);
    for (const subject of subjects) {
      expect(first.stdout).toMatch(new RegExp(`^${subject.replace(/\./g, '\\.')} id \\d+$`, 'm'));
      expect(await levelOf(subject)).toBe('BACKWARD');
    }
    expect((await cdc(prefix, 'schemas', 'register')).stdout).toBe(first.stdout);

    const check = await cdc(prefix, 'schemas', 'check');
    expect(check.code).toBe(0);
    expect(check.stdout.match(/^compatible /gm)).toHaveLength(subjects.length);

    // BACKWARD is in force: a version that cannot read the previous one is refused.
    const breaking = {
      type: 'record',
      name: 'MovieKpis',
      namespace: 'movies.cdc.v1',
      fields: [{ name: 'movie_id', type: 'boolean' }],
    };
    await expect(
      registry.register(valueSubject(topics.gold), JSON.stringify(breaking)),
    ).rejects.toMatchObject({
      code: 'SCHEMA_INCOMPATIBLE',
      status: 409,
    });
  });

  it('check exits 1 naming the subject whose latest version the schema cannot read', async () => {
    const other = `test-schemas-${randomSuffix()}.`;
    const gold = valueSubject(topicNames(other).gold);
    const old = {
      type: 'record',
      name: 'MovieKpis',
      namespace: 'movies.cdc.v1',
      fields: [{ name: 'movie_id', type: 'boolean' }],
    };
    await registry.register(gold, JSON.stringify(old));
    await registry.setCompatibility(gold, 'BACKWARD');

    const check = await cdc(other, 'schemas', 'check');
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(
      new RegExp(`^incompatible +MovieKpis -> ${gold.replace(/\./g, '\\.')}$`, 'm'),
    );
  });
});
