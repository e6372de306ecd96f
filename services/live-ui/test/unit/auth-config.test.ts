import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { authRequired, createToken, listTokens, loadLiveUiConfig, revokeToken, TokenStore } from '../../src';

describe('when the dashboard asks for API tokens', () => {
  const config = (env: Record<string, string>) => loadLiveUiConfig(env);

  it('not on loopback by default; always elsewhere unless the network is declared trusted', () => {
    expect(authRequired(config({}))).toBe(false);
    expect(authRequired(config({ UI_HOST: 'localhost' }))).toBe(false);
    expect(authRequired(config({ UI_HOST: '127.0.0.5' }))).toBe(false);
    expect(authRequired(config({ UI_HOST: '0.0.0.0' }))).toBe(true);
    expect(authRequired(config({ UI_HOST: '10.1.2.3' }))).toBe(true);
    expect(authRequired(config({ UI_HOST: '0.0.0.0', UI_TRUSTED_NETWORK: 'true' }))).toBe(false);
    expect(authRequired(config({ UI_AUTH: 'required' }))).toBe(true);
  });

  it('HTTPS needs both the certificate and the key', () => {
    expect(() => config({ UI_TLS_CERT_FILE: 'cert.pem' })).toThrow(/both a certificate and its key/);
    expect(config({ UI_TLS_CERT_FILE: 'c.pem', UI_TLS_KEY_FILE: 'k.pem' }).tlsKeyFile).toBe('k.pem');
  });
});

describe('API tokens', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'ui-tokens-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('are stored hashed (0600); a running store sees a revocation at once', () => {
    const file = path.join(dir, 'tokens.json');
    const store = new TokenStore(file);
    expect(store.activeCount()).toBe(0);
    const { token, record } = createToken(file, 'viewer', 'alice');
    expect(token).toMatch(/^cdcui_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // The secret is base64url, so it may itself hold '_': take everything after the id.
    const secret = /^cdcui_[0-9a-f]{12}_(.+)$/.exec(token)![1]!;
    expect(JSON.stringify(listTokens(file))).not.toContain(secret);
    expect(store.verify(token)).toEqual({ id: record.id, role: 'viewer' });
    expect(store.verify(`${token.slice(0, -1)}x`)).toBeNull();
    expect(store.verify('not a token')).toBeNull();
    revokeToken(file, record.id);
    expect(store.verify(token)).toBeNull();
    expect(store.activeRole(record.id)).toBeNull();
    expect(() => revokeToken(file, 'ffffffffffff')).toThrow(/no token with id/);
  });
});
