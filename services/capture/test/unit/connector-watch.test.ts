import { createLogger } from '@cdc/core';
import { ConnectorWatch } from '../../src/connector-watch';
import type { ConnectRest, ConnectorStatus } from '../../src/source/connect-rest';

/** Kafka Connect's answers, one per status request, and the restarts asked of it. */
function connect(states: (string | null)[]) {
  const restarts: string[] = [];
  const rest = {
    url: 'http://connect',
    request: (method: string, path: string) => {
      if (method === 'POST') {
        restarts.push(path);
        return Promise.resolve({ status: 202, body: undefined });
      }
      const state = states.length > 1 ? states.shift()! : states[0]!;
      if (state === null) return Promise.resolve({ status: 404, body: undefined });
      const body: ConnectorStatus = {
        name: 'c',
        connector: { state: 'RUNNING' },
        tasks: [
          {
            id: 0,
            state,
            ...(state === 'FAILED'
              ? { trace: 'DebeziumException: Failed to create TypeRegistry\n\tat x' }
              : {}),
          },
        ],
      };
      return Promise.resolve({ status: 200, body });
    },
  } as unknown as ConnectRest;
  return { rest, restarts };
}

describe('the connector watch', () => {
  const counts = { restarts: 0, up: [] as (boolean | null)[] };
  const metrics = {
    restarted: () => void counts.restarts++,
    state: (up: boolean | null) => void counts.up.push(up),
  };
  const logger = createLogger('test', 'silent');
  beforeEach(() => {
    counts.restarts = 0;
    counts.up = [];
  });

  it('restarts a failed task once, then waits its backoff before the next restart', async () => {
    const c = connect(['FAILED']);
    const watch = new ConnectorWatch({
      rest: c.rest,
      connector: 'c',
      intervalMs: 60_000,
      maxBackoffMs: 300_000,
      logger,
      metrics,
    });
    await watch.check();
    await watch.check();
    expect(c.restarts).toEqual(['/connectors/c/restart?includeTasks=true&onlyFailed=true']);
    expect(counts.restarts).toBe(1);
    expect(watch.current).toBe('failed');
  });

  it('reports running, and leaves a paused or missing connector alone', async () => {
    for (const [state, seen] of [
      ['RUNNING', 'running'],
      ['PAUSED', 'paused'],
      [null, 'missing'],
    ] as const) {
      const c = connect([state]);
      const watch = new ConnectorWatch({
        rest: c.rest,
        connector: 'c',
        intervalMs: 1,
        maxBackoffMs: 1000,
        logger,
        metrics,
      });
      await watch.check();
      expect({ state, seen: watch.current, restarts: c.restarts }).toEqual({ state, seen, restarts: [] });
    }
  });

  it('restarts again after the backoff, and starts over once it runs', async () => {
    const c = connect(['FAILED', 'FAILED', 'RUNNING', 'FAILED']);
    const watch = new ConnectorWatch({
      rest: c.rest,
      connector: 'c',
      intervalMs: 1,
      maxBackoffMs: 1000,
      logger,
      metrics,
    });
    await watch.check(); // restart, backoff 1 ms
    await new Promise((r) => setTimeout(r, 5));
    await watch.check(); // restart again
    await watch.check(); // running
    await watch.check(); // failed again: restarted at once
    expect(c.restarts).toHaveLength(3);
    expect(counts.up).toContain(true);
  });
});
