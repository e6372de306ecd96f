import {
  AbortedError,
  CdcError,
  UnavailableError,
  commitMetadata,
  commitTimeOf,
  createLogger,
  kafkaLogDisposition,
  OutageTracker,
  outageOf,
  outageReason,
  RegistryError,
  retryWhileOutage,
} from '../../src';

const silent = createLogger('test', 'silent');

/** A logger that records what was logged at each level. */
function recordingLogger() {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const make = (): unknown => ({
    child: () => make(),
    debug: (f: Record<string, unknown>, msg: string) => lines.push({ level: 'debug', msg, fields: f }),
    info: (f: Record<string, unknown>, msg: string) => lines.push({ level: 'info', msg, fields: f }),
    warn: (f: Record<string, unknown>, msg: string) => lines.push({ level: 'warn', msg, fields: f }),
    error: (f: Record<string, unknown>, msg: string) => lines.push({ level: 'error', msg, fields: f }),
  });
  return { logger: make() as ReturnType<typeof createLogger>, lines };
}

const named = (name: string, extra: Record<string, unknown> = {}): Error =>
  Object.assign(new Error(name), { name, ...extra });

describe('outageOf', () => {
  it.each([
    ['KafkaJSConnectionError', 'broker'],
    ['KafkaJSNumberOfRetriesExceeded', 'broker'],
    ['KafkaJSRequestTimeoutError', 'broker'],
    ['KafkaJSNoBrokerAvailableError', 'broker'],
  ])('%s is a broker outage', (name, dep) => expect(outageOf(named(name))).toBe(dep));

  it('reads protocol error types, node error codes and cause chains', () => {
    expect(outageOf(Object.assign(new Error('x'), { type: 'COORDINATOR_LOAD_IN_PROGRESS' }))).toBe('broker');
    expect(outageOf(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('broker');
    expect(outageOf(new Error('wrapped', { cause: named('KafkaJSConnectionError') }))).toBe('broker');
    expect(outageOf(Object.assign(new Error('retries'), { originalError: { code: 'ECONNRESET' } }))).toBe(
      'broker',
    );
  });

  it('knows the registry and our own codes; bad data, bad config and bugs are not outages', () => {
    expect(outageOf(new RegistryError('down', { retriable: true }))).toBe('registry');
    expect(outageOf(new UnavailableError('broker', 'x'))).toBe('broker');
    expect(outageOf(new RegistryError('404', { status: 404 }))).toBeNull();
    expect(outageOf(new CdcError('CONFIG_INVALID', 'x'))).toBeNull();
    expect(outageOf(new TypeError('undefined is not a function'))).toBeNull();
    expect(outageOf(Object.assign(new Error('x'), { type: 'FENCED_INSTANCE_ID' }))).toBeNull();
    expect(outageOf('a string')).toBeNull();
  });

  it('gives the innermost reason', () => {
    const err = Object.assign(named('KafkaJSNumberOfRetriesExceeded'), {
      originalError: new Error('connect ECONNREFUSED 127.0.0.1:9092'),
    });
    expect(outageReason(err)).toBe('connect ECONNREFUSED 127.0.0.1:9092');
  });
});

describe('OutageTracker', () => {
  it('logs once per outage: one warning, retries at debug, one info line with duration and retries', () => {
    const { logger, lines } = recordingLogger();
    let now = 1000;
    const t = new OutageTracker({ logger, now: () => now });
    t.recovered('broker'); // nothing to end
    t.failed('broker', new Error('ECONNREFUSED'));
    now = 1500;
    t.failed('broker', new Error('ECONNREFUSED'));
    t.failed('broker', new Error('timeout'));
    expect(t.isDown()).toBe(true);
    expect(t.status()).toEqual([{ dependency: 'broker', since: 1000, reason: 'timeout', retries: 2 }]);
    now = 4000;
    t.recovered('broker');
    expect(t.isDown()).toBe(false);
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    expect(lines.filter((l) => l.level === 'debug')).toHaveLength(2);
    const info = lines.filter((l) => l.level === 'info');
    expect(info).toHaveLength(1);
    expect(info[0]!.fields).toMatchObject({ dependency: 'broker', outageMs: 3000, retries: 2 });
  });

  it('tracks the broker and the registry apart; report() takes only outage errors', () => {
    const t = new OutageTracker({ logger: silent });
    expect(t.report(new RegistryError('down', { retriable: true }))).toBe(true);
    expect(t.report(new TypeError('bug'))).toBe(false);
    expect(t.isDown('registry')).toBe(true);
    expect(t.isDown('broker')).toBe(false);
  });
});

describe('retryWhileOutage', () => {
  it('retries outages until it works, then ends the outage', async () => {
    const t = new OutageTracker({ logger: silent });
    let calls = 0;
    const v = await retryWhileOutage(
      () => (++calls < 3 ? Promise.reject(named('KafkaJSConnectionError')) : Promise.resolve('ok')),
      { outages: t, what: 'test', initialMs: 1, maxMs: 2 },
    );
    expect([v, calls, t.isDown()]).toEqual(['ok', 3, false]);
  });

  it('throws anything else at once', async () => {
    const t = new OutageTracker({ logger: silent });
    let calls = 0;
    await expect(
      retryWhileOutage(() => (calls++, Promise.reject(new TypeError('bug'))), {
        outages: t,
        what: 'x',
        initialMs: 1,
      }),
    ).rejects.toThrow('bug');
    expect(calls).toBe(1);
  });

  it('ends the wait at once when the signal aborts', async () => {
    const t = new OutageTracker({ logger: silent });
    const stop = new AbortController();
    const started = Date.now();
    const p = retryWhileOutage(() => Promise.reject(named('KafkaJSConnectionError')), {
      outages: t,
      what: 'waiting',
      signal: stop.signal,
      initialMs: 60_000,
    });
    setTimeout(() => stop.abort(), 20);
    await expect(p).rejects.toBeInstanceOf(AbortedError);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('gives up once the outage outlasts maxOutageMs, with the last error', async () => {
    let now = 0;
    const t = new OutageTracker({ logger: silent, now: () => now });
    const p = retryWhileOutage(
      () => {
        now += 400;
        return Promise.reject(new UnavailableError('broker', 'no broker'));
      },
      { outages: t, what: 'x', initialMs: 1, maxMs: 1, maxOutageMs: 1000 },
    );
    await expect(p).rejects.toMatchObject({ code: 'UNAVAILABLE', dependency: 'broker' });
  });
});

describe('kafkajs log lines during an outage', () => {
  it('connection failures are outages, retried protocol errors are noise, the rest is logged', () => {
    expect(kafkaLogDisposition('Connection error: connect ECONNREFUSED 127.0.0.1:9092', undefined)).toBe(
      'outage',
    );
    expect(
      kafkaLogDisposition('Failed to connect to seed broker, trying another broker from the list', undefined),
    ).toBe('outage');
    expect(kafkaLogDisposition('Crash: KafkaJSNumberOfRetriesExceeded: x', undefined)).toBe('outage');
    expect(kafkaLogDisposition('Restarting the consumer in 300ms', undefined)).toBe('noise');
    expect(kafkaLogDisposition('Response without match', undefined)).toBe('noise');
    expect(kafkaLogDisposition('Response Heartbeat(key: 12, version: 3)', 'The coordinator is loading')).toBe(
      'noise',
    );
    expect(
      kafkaLogDisposition(
        'Failed to send messages: This server does not host this topic-partition',
        undefined,
      ),
    ).toBe('log');
  });
});

describe('commit metadata', () => {
  it('carries the commit time', () => {
    expect(commitTimeOf(commitMetadata(1234))).toBe(1234);
    expect(commitTimeOf('')).toBeNull();
    expect(commitTimeOf(null)).toBeNull();
  });
});
