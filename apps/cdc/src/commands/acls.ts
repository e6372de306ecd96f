import { Option, type Command } from 'commander';
import { ACL_SERVICES, aclsFor, kafkaAclsCommand, UsageError, type AclService } from '@cdc/core';
import { run } from '../run';

interface AclsOptions {
  principal: string;
  prefix?: string;
  service?: AclService;
  format: 'kafka-acls' | 'json';
}

/** `cdc acls`: the Kafka ACLs each service needs, for one principal, printed (never applied). */
export function registerAclsCommand(program: Command): void {
  program
    .command('acls')
    .description('print the Kafka ACLs each service needs, as kafka-acls.sh commands or JSON')
    .requiredOption('--principal <principal>', 'the principal to allow, such as User:enricher')
    .option('--prefix <prefix>', 'the topic prefix (TOPIC_PREFIX) the pipeline runs under')
    .addOption(new Option('--service <service>', 'only this service').choices([...ACL_SERVICES]))
    .addOption(
      new Option('--format <format>', 'output format').choices(['kafka-acls', 'json']).default('kafka-acls'),
    )
    .action((o: AclsOptions) =>
      run(async () => {
        await Promise.resolve();
        if (!/^[A-Za-z]+:.+$/.test(o.principal)) {
          throw new UsageError(
            `--principal must be <type>:<name>, such as User:enricher; got '${o.principal}'`,
          );
        }
        const prefix = o.prefix ?? process.env.TOPIC_PREFIX ?? '';
        const services = o.service ? [o.service] : [...ACL_SERVICES];
        if (o.format === 'json') {
          const out = Object.fromEntries(services.map((s) => [s, aclsFor(s, prefix)]));
          process.stdout.write(
            `${JSON.stringify({ principal: o.principal, prefix, services: out }, null, 2)}\n`,
          );
          return;
        }
        for (const s of services) {
          process.stdout.write(`# ${s}\n`);
          for (const entry of aclsFor(s, prefix))
            process.stdout.write(`${kafkaAclsCommand(entry, o.principal)}\n`);
        }
      }),
    );
}
