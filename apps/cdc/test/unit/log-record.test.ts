import { isAlert, oneLine, parseLogLine } from '../../src/log-record';

describe("what cdc start shows of a service's line", () => {
  const warn = JSON.stringify({
    level: 40,
    time: 1,
    service: 'aggregator',
    msg: 'consumer crashed; kafkajs restarts it',
    err: {
      type: 'KafkaJSProtocolError',
      message: 'The coordinator is loading\nmore',
      stack: 'at x',
      code: 14,
    },
  });

  it('reads both log formats: numeric levels and level names (LOG_FORMAT=iso)', () => {
    expect(parseLogLine(warn)?.level).toBe(40);
    expect(parseLogLine('{"level":"error","msg":"x"}')?.level).toBe(50);
    expect(parseLogLine('dashboard at http://127.0.0.1:8080')).toBeNull();
    expect(parseLogLine('{not json')).toBeNull();
  });

  it('shows warnings, errors and error lines; not info, debug or plain output', () => {
    expect(isAlert(warn)).toBe(true);
    expect(isAlert('{"level":"warn","msg":"x"}')).toBe(true);
    expect(isAlert('{"level":30,"msg":"started"}')).toBe(false);
    expect(isAlert('{"level":20,"msg":"x"}')).toBe(false);
    expect(isAlert('error [CONFIG_INVALID]: port 9471 is already in use')).toBe(true);
    expect(isAlert('warning: the retention deletes history')).toBe(true);
    expect(isAlert('dashboard at http://127.0.0.1:8080')).toBe(false);
  });

  it('one line per record: the service, level, message and the error by type, first line and code', () => {
    expect(oneLine('aggregator', warn)).toBe(
      '[aggregator] warn: consumer crashed; kafkajs restarts it (KafkaJSProtocolError: The coordinator is loading (14))',
    );
    expect(oneLine('enricher', '{"level":50,"msg":"gave up","err":"plain text"}')).toBe(
      '[enricher] error: gave up (plain text)',
    );
    expect(oneLine('live-ui', 'error [USAGE]: bad')).toBe('[live-ui] error [USAGE]: bad');
  });
});
