import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { waitFor, type Alert } from '@cdc/core';
import { postAlertmanager } from '@cdc/alerts';

/**
 * Alertmanager as a destination, against a real one (Debian's prometheus-alertmanager, installed
 * by `scripts/ensure-installed.js --monitoring`): the transitions the alerts service delivers
 * (`cdc alerts --alertmanager URL`) show an alert firing with the labels and annotations
 * operators route on, then resolved.
 */
const ALERTMANAGER = process.env.ALERTMANAGER_PATH ?? '/usr/bin/prometheus-alertmanager';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  generatorURL: string;
  status: { state: string };
}

function firingAlert(now: number): Alert {
  return {
    alert_id: `cancellation_spike/M012/${now}`,
    rule: 'cancellation_spike',
    rule_type: 'cancellation_spike',
    subject: 'M012',
    movie_id: 'M012',
    status: 'FIRING',
    severity: 'warning',
    labels: { team: 'box-office' },
    summary: 'M012: 40 cancellations in 5 min (baseline 2)',
    value: 40,
    threshold: 10,
    baseline: 2,
    clock: 'EVENT',
    active_since: now - 60_000,
    fired_at: now - 30_000,
    resolved_at: null,
    transition_at: now,
    sequence: 1,
  };
}

describe('Alertmanager as an alert destination (a real Alertmanager)', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'cdc-alertmanager-'));
  let am: ChildProcess | null = null;
  let base = '';

  beforeAll(async () => {
    if (!existsSync(ALERTMANAGER))
      throw new Error(
        `${ALERTMANAGER} is missing: run \`node scripts/ensure-installed.js --monitoring\` or set ALERTMANAGER_PATH`,
      );
    const port = await freePort();
    const config = path.join(tmp, 'alertmanager.yml');
    writeFileSync(config, 'route: { receiver: none }\nreceivers: [{ name: none }]\n');
    am = spawn(
      ALERTMANAGER,
      [
        `--config.file=${config}`,
        `--storage.path=${path.join(tmp, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
      ],
      { stdio: 'ignore' },
    );
    base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/-/ready`).catch(() => null))?.ok || undefined, {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: 'Alertmanager to be ready',
    });
  });
  afterAll(async () => {
    if (am && am.exitCode === null) {
      am.kill('SIGTERM');
      await once(am, 'exit');
    }
    rmSync(tmp, { recursive: true, force: true });
  });

  it('an alert fires with alertname, severity, movie_id, summary and a link, then resolves', async () => {
    const now = Date.now();
    const firing = firingAlert(now);
    const o = {
      generatorUrl: 'http://localhost:8080/',
      timeoutMs: 5000,
      signal: new AbortController().signal,
    };
    const listed = async (): Promise<GettableAlert[]> =>
      (await (
        await fetch(`${base}/api/v2/alerts?filter=${encodeURIComponent('alertname="cancellation_spike"')}`)
      ).json()) as GettableAlert[];

    await postAlertmanager(base, firing, o);
    const [active] = await waitFor(async () => ((await listed()).length === 1 ? listed() : undefined), {
      timeoutMs: 10_000,
      what: 'the firing alert in Alertmanager',
    });
    expect(active!.status.state).toBe('active');
    expect(active!.labels).toMatchObject({
      alertname: 'cancellation_spike',
      severity: 'warning',
      movie_id: 'M012',
      team: 'box-office',
      service: 'cdc-alerts',
    });
    expect(active!.annotations).toMatchObject({ summary: firing.summary, value: '40', threshold: '10' });
    expect(active!.generatorURL).toBe('http://localhost:8080/?movie=M012');

    await postAlertmanager(
      base,
      { ...firing, status: 'RESOLVED', resolved_at: now + 60_000, transition_at: Date.now(), sequence: 2 },
      o,
    );
    await waitFor(async () => ((await listed()).length === 0 ? true : undefined), {
      timeoutMs: 10_000,
      what: 'the alert resolved in Alertmanager',
    });
  });

  it('an Alertmanager that refuses says so (the outbox retries)', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const o = {
      generatorUrl: 'http://localhost:8080/',
      timeoutMs: 2000,
      signal: new AbortController().signal,
    };
    await expect(postAlertmanager(closed, firingAlert(Date.now()), o)).rejects.toThrow(
      /Alertmanager POST .*\/api\/v2\/alerts/,
    );
  });
});
