import {
  ConfigError,
  describeDerivation,
  enricherRecord,
  sameDerivation,
  settingsRecord,
  sleep,
  SETTINGS_KEY,
  type ControlClient,
  type DerivationSettings,
  type Logger,
} from '@cdc/core';
import { RULES_VERSION, deriverFor } from '@cdc/bookings';
import { Derivations } from './derivations';
import { backoffMs } from './tx-plan';

/**
 * The enricher's side of the pipeline's derivation settings (control topic, see core's control/):
 *  - at start it reads them; if none are stored yet it records its own (its zone, default UTC;
 *    the current rules; epoch 0). A zone asked for explicitly that differs from the stored one
 *    refuses the start: the zone is changed by a backfill, not by restarting an enricher;
 *  - while it runs it keeps reading; a new epoch switches the deriver for the next chunk
 *    (Derivations), and once no chunk of the old epoch is in flight it acknowledges the epoch
 *    under `enricher/<group>/<instance>` with its group member id (and again after every join);
 *  - `catchUp()` reads the control topic to its end; the enricher awaits it before the first
 *    batch of every group generation, so a member that joins after a backfill recorded new
 *    settings cannot derive anything with the old ones (the race the backfill's range relies on:
 *    see the README).
 */
export interface SettingsSync {
  readonly derivations: Derivations;
  catchUp(): Promise<void>;
  /** After a group join: acknowledge the current epoch with this member id. */
  joined(memberId: string): void;
  health(): Record<string, unknown>;
  close(): void;
}

export interface SettingsSyncOptions {
  control: ControlClient;
  groupId: string;
  instanceId: string;
  /** The zone asked for (--time-zone / ENRICHER_TIME_ZONE), if any. */
  timeZone: string | undefined;
  logger: Logger;
  /** The enricher cannot go on (new settings name rules it does not know). */
  onFatal(err: Error): void;
  retryInitialMs: number;
  retryMaxMs: number;
}

/**
 * What an enricher starting on a pipeline does with the stored settings (pure): use them, or
 * record its own when there are none. Throws ConfigError when the zone asked for differs.
 */
export function startupSettings(
  stored: DerivationSettings | null,
  asked: { timeZone: string | undefined; who: string },
  nowMs: number,
): { settings: DerivationSettings; record: boolean } {
  if (stored === null) {
    return {
      record: true,
      settings: {
        time_zone: asked.timeZone ?? 'UTC',
        rules_version: RULES_VERSION,
        epoch: 0,
        since: nowMs,
        set_by: `${asked.who} (first start)`,
      },
    };
  }
  if (asked.timeZone !== undefined && asked.timeZone !== stored.time_zone) {
    throw new ConfigError(
      `--time-zone (ENRICHER_TIME_ZONE) is ${asked.timeZone}, but this pipeline derives in ${stored.time_zone} ` +
        `(${describeDerivation(stored)}, since ${new Date(stored.since).toISOString()}, set by ${stored.set_by}). ` +
        'The time zone is pipeline state, kept in the control topic, so every enricher agrees. ' +
        `To change it, re-derive bronze with \`cdc backfill --time-zone ${asked.timeZone}\` (it prints the plan; ` +
        'add --execute to run it); to start this enricher, leave out --time-zone / ENRICHER_TIME_ZONE.',
    );
  }
  return { record: false, settings: stored };
}

export async function startSettingsSync(o: SettingsSyncOptions): Promise<SettingsSync> {
  const log = o.logger.child({ component: 'settings' });
  const who = `enricher ${o.groupId}/${o.instanceId}`;
  let decided = startupSettings((await o.control.read()).settings, { timeZone: o.timeZone, who }, Date.now());
  if (decided.record) {
    await o.control.write([settingsRecord(decided.settings)]);
    // Two enrichers starting on a new pipeline at once: the last record wins; both follow it.
    decided = startupSettings((await o.control.read()).settings, { timeZone: o.timeZone, who }, Date.now());
    log.info({ settings: decided.settings }, 'no derivation settings stored yet: recorded these');
  }
  let settings = decided.settings;
  const derivations = new Derivations(deriverFor(settings));
  if (settings.rules_version !== RULES_VERSION) {
    log.info(
      { pipeline: settings.rules_version, newest: RULES_VERSION },
      `the pipeline derives with rules ${settings.rules_version}; this enricher's newest are ${RULES_VERSION} ` +
        `(\`cdc backfill --rules-version ${RULES_VERSION}\` switches)`,
    );
  }

  let memberId = '';
  let acked: { memberId: string; epoch: number; at: number } | null = null;
  let closed = false;
  let chain: Promise<void> = Promise.resolve();

  const acknowledge = async (): Promise<void> => {
    for (let attempt = 1; !closed;) {
      await derivations.settled();
      const epoch = derivations.current.epoch;
      if (memberId === '' || (acked?.memberId === memberId && acked.epoch === epoch)) return;
      const ack = {
        group_id: o.groupId,
        instance_id: o.instanceId,
        member_id: memberId,
        epoch,
        acked_at: Date.now(),
      };
      try {
        await o.control.write([enricherRecord(ack)]);
        acked = { memberId: ack.member_id, epoch, at: ack.acked_at };
        log.info({ epoch, memberId: ack.member_id }, 'acknowledged the derivation epoch');
        attempt = 1;
      } catch (err) {
        log.warn({ attempt, err }, 'could not write the acknowledgement; retrying');
        await sleep(backoffMs(attempt++, o.retryInitialMs, o.retryMaxMs));
      }
    }
  };
  const scheduleAck = (): void => {
    chain = chain.then(acknowledge, acknowledge);
  };

  const consider = (next: DerivationSettings | null | undefined): void => {
    if (!next || (next.epoch === settings.epoch && sameDerivation(next, settings))) return;
    let deriver;
    try {
      deriver = deriverFor(next);
    } catch (err) {
      log.error({ settings: next, err }, 'new derivation settings cannot be applied');
      o.onFatal(err as Error);
      return;
    }
    log.info(
      { from: describeDerivation(settings), to: describeDerivation(next), setBy: next.set_by },
      'derivation settings changed: chunks enriched from now on use the new ones',
    );
    settings = next;
    void derivations.switchTo(deriver);
    scheduleAck();
  };
  o.control.listen(({ key, value }) => {
    if (key === SETTINGS_KEY) consider(value?.settings);
  });
  // Anything read between the start-up read and the listener.
  consider(o.control.state.settings);

  return {
    derivations,
    catchUp: async () => {
      await o.control.read();
    },
    joined(id) {
      memberId = id;
      scheduleAck();
    },
    health: () => ({
      timeZone: settings.time_zone,
      rulesVersion: settings.rules_version,
      epoch: settings.epoch,
      since: new Date(settings.since).toISOString(),
      ackedEpoch: acked?.epoch ?? null,
      epochsInFlight: derivations.inFlight(),
    }),
    close() {
      closed = true;
    },
  };
}
