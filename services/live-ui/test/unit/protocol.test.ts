import { loadLiveUiConfig, ownOrigins } from '../../src/config';
import { loadSchema } from '@cdc/core';
import type { MovieRow } from '../../src/gold-state';
import {
  backpressure,
  decodeMovies,
  encodeMovies,
  MOVIE_COLUMNS,
  originAllowed,
  parseClientMessage,
  type MovieTable,
} from '../../src/protocol';

describe('origin check', () => {
  const allowed = ownOrigins('127.0.0.1', 8080);

  it("allows the server's own origins", () => {
    expect(allowed).toContain('http://127.0.0.1:8080');
    expect(allowed).toContain('http://localhost:8080');
    expect(originAllowed('http://127.0.0.1:8080', allowed)).toBe(true);
    expect(originAllowed('HTTP://LOCALHOST:8080/', allowed)).toBe(true);
  });

  it('refuses foreign origins, other ports and the opaque origin', () => {
    for (const o of ['http://evil.example', 'http://127.0.0.1:8081', 'https://127.0.0.1:8080', 'null', '']) {
      expect(originAllowed(o, allowed)).toBe(false);
    }
  });

  it('lets non-browser clients (no Origin) through', () => {
    expect(originAllowed(undefined, allowed)).toBe(true);
  });
});

describe('backpressure', () => {
  it('sends under the limit, skips over it, drops after the timeout', () => {
    expect(backpressure(100, 1000, 0, 5000, 3000)).toEqual({ action: 'send', slowSinceMs: 0 });
    expect(backpressure(2000, 1000, 0, 5000, 3000)).toEqual({ action: 'skip', slowSinceMs: 5000 });
    expect(backpressure(2000, 1000, 5000, 7000, 3000)).toEqual({ action: 'skip', slowSinceMs: 5000 });
    expect(backpressure(2000, 1000, 5000, 8001, 3000)).toEqual({ action: 'drop', slowSinceMs: 5000 });
    expect(backpressure(10, 1000, 5000, 8001, 3000)).toEqual({ action: 'send', slowSinceMs: 0 });
  });
});

describe('client messages', () => {
  it('understands resync and ignores everything else', () => {
    expect(parseClientMessage('{"type":"resync"}')).toEqual({ type: 'resync' });
    expect(parseClientMessage('{"type":"drop"}')).toBeNull();
    expect(parseClientMessage('not json')).toBeNull();
    expect(parseClientMessage('null')).toBeNull();
  });
});

describe('config', () => {
  it('has defaults and reads the environment', () => {
    const c = loadLiveUiConfig({});
    expect([c.host, c.port, c.dbPath, c.allowedOrigins, c.coalesceMs]).toEqual([
      '127.0.0.1',
      8080,
      'data/aggregator.db',
      [],
      20,
    ]);
    const d = loadLiveUiConfig({ UI_PORT: '0', UI_ALLOWED_ORIGINS: 'http://a.example:1, https://b.example' });
    expect(d.port).toBe(0);
    expect(d.allowedOrigins).toEqual(['http://a.example:1', 'https://b.example']);
  });

  it('names the bad setting', () => {
    expect(() => loadLiveUiConfig({ UI_PORT: '70000' })).toThrow(/UI_PORT/);
    expect(() => loadLiveUiConfig({ UI_ALLOWED_ORIGINS: 'evil.example' })).toThrow(/UI_ALLOWED_ORIGINS/);
    expect(() => loadLiveUiConfig({ UI_COALESCE_MS: 'soon' })).toThrow(/UI_COALESCE_MS/);
  });
});

describe('movie tables in messages', () => {
  it('carry every field of the MovieKpis schema, and decode back to the same rows', () => {
    const fields = (loadSchema('MovieKpis').type as unknown as { fields: { name: string }[] }).fields.map(
      (f) => f.name,
    );
    expect([...MOVIE_COLUMNS].sort()).toEqual(['movie_key', ...fields].sort());
    const row = Object.fromEntries(
      MOVIE_COLUMNS.map((c, i) => [c, c === 'movie_id' ? null : i]),
    ) as unknown as MovieRow;
    const table = encodeMovies([row]);
    expect(table.rows[0]).toHaveLength(MOVIE_COLUMNS.length);
    expect(decodeMovies(JSON.parse(JSON.stringify(table)) as MovieTable)).toEqual([row]);
  });
});
