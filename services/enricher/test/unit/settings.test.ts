import { ConfigError, type DerivationSettings } from '@cdc/core';
import { createDeriver, RULES_VERSION } from '@cdc/bookings';
import { Derivations, fixedDerivation } from '../../src/derivations';
import { deriverFor, isKnownRulesVersion, knownRulesVersions } from '@cdc/bookings';
import { startupSettings } from '../../src/settings-sync';

const stored: DerivationSettings = {
  time_zone: 'UTC',
  rules_version: RULES_VERSION,
  epoch: 2,
  since: Date.UTC(2025, 8, 3),
  set_by: 'cdc backfill',
};

describe('settings at start', () => {
  it('records its own when none are stored: the zone asked for (default UTC), the current rules, epoch 0', () => {
    expect(startupSettings(null, { timeZone: undefined, who: 'enricher g/i' }, 42)).toEqual({
      record: true,
      settings: {
        time_zone: 'UTC',
        rules_version: RULES_VERSION,
        epoch: 0,
        since: 42,
        set_by: 'enricher g/i (first start)',
      },
    });
    expect(startupSettings(null, { timeZone: 'Asia/Tokyo', who: 'x' }, 1).settings.time_zone).toBe(
      'Asia/Tokyo',
    );
  });

  it('uses the stored settings when no zone is asked for, or the same one', () => {
    expect(startupSettings(stored, { timeZone: undefined, who: 'x' }, 1)).toEqual({
      record: false,
      settings: stored,
    });
    expect(startupSettings(stored, { timeZone: 'UTC', who: 'x' }, 1)).toEqual({
      record: false,
      settings: stored,
    });
  });

  it('refuses another zone and says how to change it', () => {
    const start = () => startupSettings(stored, { timeZone: 'America/New_York', who: 'x' }, 1);
    expect(start).toThrow(ConfigError);
    expect(start).toThrow(
      /this pipeline derives in UTC .*epoch 2.*`cdc backfill --time-zone America\/New_York`/,
    );
  });
});

describe('rules versions', () => {
  it('knows the current rules and derives with the settings it is given', () => {
    expect(knownRulesVersions()).toEqual([RULES_VERSION]);
    expect(isKnownRulesVersion(RULES_VERSION)).toBe(true);
    const d = deriverFor({ time_zone: 'Asia/Tokyo', rules_version: RULES_VERSION, epoch: 5 });
    expect(d).toMatchObject({ timeZone: 'Asia/Tokyo', epoch: 5, rulesVersion: RULES_VERSION });
  });

  it('refuses a version it does not know', () => {
    expect(isKnownRulesVersion('99')).toBe(false);
    expect(() => deriverFor({ time_zone: 'UTC', rules_version: '99', epoch: 1 })).toThrow(
      /rules version '99', which this enricher does not know \(it knows 1\)/,
    );
  });
});

describe('derivations in flight', () => {
  const utc = createDeriver('UTC', { epoch: 0 });
  const ny = createDeriver('America/New_York', { epoch: 1 });

  it('leases the deriver current when a chunk is enriched; a switch applies to the next chunk', () => {
    const d = new Derivations(utc);
    const first = d.acquire();
    void d.switchTo(ny);
    const second = d.acquire();
    expect(first.deriver).toBe(utc);
    expect(second.deriver).toBe(ny);
    expect(d.inFlight()).toEqual({ 0: 1, 1: 1 });
  });

  it('is settled once no chunk of an older epoch is in flight (chunks of the new one do not count)', async () => {
    const d = new Derivations(utc);
    const a = d.acquire();
    const b = d.acquire();
    let settled = false;
    void d.switchTo(ny).then(() => (settled = true));
    const c = d.acquire();
    a.release();
    a.release(); // idempotent
    await Promise.resolve();
    expect(settled).toBe(false);
    b.release();
    await Promise.resolve();
    expect(settled).toBe(true);
    c.release();
    expect(d.inFlight()).toEqual({});
    await expect(d.settled()).resolves.toBeUndefined();
  });

  it('a fixed source always leases the same deriver', () => {
    const f = fixedDerivation(ny);
    expect(f.acquire().deriver).toBe(ny);
  });
});
