import { ConfigError, describeDerivation, type DerivationSettings } from '@cdc/core';
import { createDeriver, RULES_VERSION, type Deriver } from './derive';

/**
 * The rules versions this enricher can derive with. The pipeline's settings (control topic) name
 * one; an enricher asked for a version it does not know refuses it rather than derive with other
 * rules. Today there is one: the current rules (derive.ts). Keeping an old version runnable means
 * keeping its rules here next to the new ones.
 */
type DeriverFactory = (timeZone: string, epoch: number) => Deriver;

const RULES: ReadonlyMap<string, DeriverFactory> = new Map([
  [RULES_VERSION, (timeZone: string, epoch: number) => createDeriver(timeZone, { epoch })],
]);

export const knownRulesVersions = (): string[] => [...RULES.keys()];
export const isKnownRulesVersion = (version: string): boolean => RULES.has(version);

/** The deriver of a set of settings. Throws ConfigError for a rules version this enricher does not know. */
export function deriverFor(s: Pick<DerivationSettings, 'time_zone' | 'rules_version' | 'epoch'>): Deriver {
  const factory = RULES.get(s.rules_version);
  if (!factory) {
    throw new ConfigError(
      `the pipeline's derivation settings (${describeDerivation(s)}) name rules version '${s.rules_version}', ` +
        `which this enricher does not know (it knows ${knownRulesVersions().join(', ')}): run an enricher that has those rules`,
    );
  }
  return factory(s.time_zone, s.epoch);
}
