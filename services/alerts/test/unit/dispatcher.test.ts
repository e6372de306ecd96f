import { UnavailableError, waitFor, type Alert, type Logger } from '@cdc/core';
import { AlertStore, emptyEngineState, idempotencyKey, webhookDestination } from '@cdc/alerts';
import { retryDelayMs, startDispatcher, type Destination, type Dispatcher } from '../../src/dispatcher';

/**
 * The dispatcher delivers the outbox (an in-memory SQLite store) to destinations that are plain
 * functions here: the backoff schedule, order, retries until delivered, stop in the middle of an
 * outage, and a restart that sends what was left and nothing that was delivered.
 */
const HOOK = webhookDestination('http://127.0.0.1:9/hook');
const T0 = Date.UTC(2026, 0, 5, 12, 0);
const MIN_MS = 5;
const MAX_MS = 40;

function transition(subject: string, status: Alert['status'] = 'FIRING'): Alert {
  return {
    alert_id: `cancellation_spike/${subject}/${T0}`,
    rule: 'cancellation_spike',
    rule_type: 'cancellation_spike',
    subject,
    movie_id: subject,
    status,
    severity: 'warning',
    labels: {},
    summary: `${subject}: spike`,
    value: 40,
    threshold: 20,
    baseline: 0,
    clock: 'EVENT',
    active_since: T0,
    fired_at: T0,
    resolved_at: status === 'RESOLVED' ? T0 + 1 : null,
    transition_at: T0,
    sequence: status === 'RESOLVED' ? 2 : 1,
  };
}

/** A logger that keeps what was logged at each level. */
function recordingLogger(): Logger & { lines: Record<string, string[]> } {
  const lines: Record<string, string[]> = { debug: [], info: [], warn: [], error: [] };
  const at =
    (level: string) =>
    (_obj: unknown, msg?: string): void =>
      void lines[level]!.push(msg ?? '');
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  } as unknown as Logger & { lines: Record<string, string[]> };
}

/** A destination that fails its first `failures` attempts, recording every attempt's idempotency key. */
function flaky(name: string, failures: number): Destination & { attempts: string[]; delivered: string[] } {
  let left = failures;
  const attempts: string[] = [];
  const delivered: string[] = [];
  return {
    name,
    attempts,
    delivered,
    deliver(alert) {
      attempts.push(idempotencyKey(alert));
      if (left > 0) {
        left -= 1;
        return Promise.reject(new UnavailableError('webhook', 'HTTP 500'));
      }
      delivered.push(idempotencyKey(alert));
      return Promise.resolve();
    },
  };
}

describe('retry schedule', () => {
  afterEach(() => jest.restoreAllMocks());

  it('doubles from the minimum, with a random factor in [1, 2), capped at the maximum', () => {
    jest.spyOn(Math, 'random').mockReturnValue(0);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((n) => retryDelayMs(n, 500, 30_000))).toEqual([
      500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000,
    ]);
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
    expect([0, 1, 2, 5].map((n) => retryDelayMs(n, 500, 30_000))).toEqual([750, 1500, 3000, 24_000]);
    jest.spyOn(Math, 'random').mockReturnValue(0.9999);
    expect(retryDelayMs(0, 500, 30_000)).toBe(1000);
    expect(retryDelayMs(40, 500, 30_000)).toBe(30_000);
  });
});

describe('dispatcher', () => {
  let store: AlertStore;
  let dispatcher: Dispatcher | null = null;
  beforeEach(() => {
    store = AlertStore.open(':memory:');
  });
  afterEach(async () => {
    await dispatcher?.stop();
    dispatcher = null;
    store.close();
    jest.restoreAllMocks();
  });

  const save = (alerts: Alert[], destinations: string[]) =>
    store.save(emptyEngineState(), alerts, destinations, T0);

  it('retries a failing destination with backoff until delivered, same key every attempt, in order; another destination gets each once', async () => {
    jest.spyOn(Math, 'random').mockReturnValue(0);
    const failing = flaky(HOOK, 3);
    const healthy = flaky('kafka', 0);
    const logger = recordingLogger();
    // Each failure's next attempt is at now() + the schedule's delay for the attempts so far.
    let lastNow = 0;
    const now = () => (lastNow = Date.now());
    const scheduled: number[] = [];
    const failed = store.failed.bind(store);
    jest.spyOn(store, 'failed').mockImplementation((d, error, nextAttemptAt) => {
      scheduled.push(nextAttemptAt - lastNow);
      failed(d, error, nextAttemptAt);
    });
    save([transition('M001'), transition('M002'), transition('M001', 'RESOLVED')], [HOOK, 'kafka']);
    const delivered: [string, number][] = [];
    dispatcher = startDispatcher({
      store,
      destinations: [failing, healthy],
      retryMinMs: MIN_MS,
      retryMaxMs: MAX_MS,
      logger,
      now,
      onDelivered: (d, _a, attempts) => delivered.push([d, attempts]),
    });
    await waitFor(() => store.backlog().size === 0, { timeoutMs: 10_000, what: 'the outbox to empty' });

    const keys = [transition('M001'), transition('M002'), transition('M001', 'RESOLVED')].map(idempotencyKey);
    expect(healthy.attempts).toEqual(keys);
    expect(failing.attempts).toEqual([keys[0], keys[0], keys[0], keys[0], keys[1], keys[2]]);
    expect(failing.delivered).toEqual(keys);
    expect(scheduled).toEqual([MIN_MS, MIN_MS * 2, MIN_MS * 4]);
    expect(delivered.filter(([d]) => d === HOOK).map(([, n]) => n)).toEqual([4, 1, 1]);
    // One warning for the outage, the retries at debug, one line when it recovers.
    expect(logger.lines.warn).toHaveLength(1);
    expect(logger.lines.debug).toHaveLength(2);
    expect(logger.lines.info).toEqual(['notifications delivered again']);
  });

  it('never gives up while running; stopped in an outage, what was not delivered stays for the next start, and only that is sent then', async () => {
    save([transition('M001')], [HOOK]);
    const up = flaky(HOOK, 0);
    dispatcher = startDispatcher({
      store,
      destinations: [up],
      retryMinMs: MIN_MS,
      retryMaxMs: MAX_MS,
      logger: recordingLogger(),
    });
    await waitFor(() => up.delivered.length === 1, { timeoutMs: 10_000, what: 'M001 delivered' });
    await dispatcher.stop();

    // The receiver goes down: M002 fails again and again (far more attempts than a retry budget).
    save([transition('M002')], [HOOK]);
    const down = flaky(HOOK, Number.POSITIVE_INFINITY);
    dispatcher = startDispatcher({
      store,
      destinations: [down],
      retryMinMs: MIN_MS,
      retryMaxMs: MIN_MS,
      logger: recordingLogger(),
    });
    dispatcher.notify();
    await waitFor(() => down.attempts.length >= 20, { timeoutMs: 10_000, what: '20 failed attempts' });
    await dispatcher.stop();
    const left = store.nextDelivery(HOOK);
    expect(left?.record.subject).toBe('M002');
    expect(left!.attempts).toBeGreaterThanOrEqual(20);

    // Started again (a reopened store holds the same rows): M002 once, M001 never again.
    const back = flaky(HOOK, 0);
    dispatcher = startDispatcher({
      store,
      destinations: [back],
      retryMinMs: MIN_MS,
      retryMaxMs: MIN_MS,
      logger: recordingLogger(),
    });
    await waitFor(() => store.backlog().size === 0, { timeoutMs: 10_000, what: 'M002 delivered' });
    expect(back.attempts).toEqual([idempotencyKey(transition('M002'))]);
    expect(down.attempts.every((k) => k === idempotencyKey(transition('M002')))).toBe(true);
  });

  it('a delivery cut short by stop is neither counted as delivered nor as a failed attempt', async () => {
    save([transition('M001')], [HOOK]);
    let started = false;
    const hanging: Destination = {
      name: HOOK,
      deliver: (_alert, signal) =>
        new Promise((_resolve, reject) => {
          started = true;
          signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
        }),
    };
    dispatcher = startDispatcher({
      store,
      destinations: [hanging],
      retryMinMs: MIN_MS,
      retryMaxMs: MAX_MS,
      logger: recordingLogger(),
    });
    await waitFor(() => started, { timeoutMs: 10_000, what: 'the delivery to start' });
    await dispatcher.stop();
    expect(store.nextDelivery(HOOK)).toMatchObject({ attempts: 0, record: { subject: 'M001' } });
  });

  it('a transition saved while idle is sent on notify', async () => {
    const dest = flaky(HOOK, 0);
    dispatcher = startDispatcher({
      store,
      destinations: [dest],
      retryMinMs: MIN_MS,
      retryMaxMs: MAX_MS,
      logger: recordingLogger(),
    });
    save([transition('M007')], [HOOK]);
    dispatcher.notify();
    await waitFor(() => dest.delivered.length === 1, { timeoutMs: 10_000, what: 'M007 delivered' });
    expect(dest.delivered).toEqual([idempotencyKey(transition('M007'))]);
  });
});
