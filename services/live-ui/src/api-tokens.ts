import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CdcError, UsageError } from '@cdc/core';

/**
 * The dashboard's API tokens, kept in one JSON file (default `data/ui-tokens.json`, next to the
 * aggregator's database; mode 0600). A token is `cdcui_<id>_<secret>`: the id names it (in
 * `cdc ui tokens list`, in logs), the secret is 32 random bytes shown once by `create` and never
 * stored: the file holds its SHA-256 only. A fast hash is enough here (unlike for passwords):
 * 256 random bits cannot be guessed from their hash, whatever the hash costs.
 *
 * Roles: `viewer` reads everything the API serves (KPIs, bookings, alerts, health);
 * `operator` also uses what the API lets change (today: revoking tokens).
 */
export const ROLES = ['viewer', 'operator'] as const;
export type Role = (typeof ROLES)[number];
export const DEFAULT_TOKENS_PATH = 'data/ui-tokens.json';

export interface TokenRecord {
  id: string;
  role: Role;
  name: string;
  created_at: string;
  /** Hex SHA-256 of the whole token. */
  sha256: string;
  revoked_at?: string;
}

interface TokenFile {
  version: 1;
  tokens: TokenRecord[];
}

const TOKEN_FORMAT = /^cdcui_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Whether `role` may do what `needed` allows. */
export const roleAllows = (role: Role, needed: Role): boolean => role === 'operator' || needed === 'viewer';

function readTokenFile(file: string): TokenFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, tokens: [] };
    throw new CdcError('UNAVAILABLE', `cannot read the token file ${file}: ${(err as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as Partial<TokenFile>;
    if (parsed.version !== 1 || !Array.isArray(parsed.tokens)) throw new Error('not a version 1 token file');
    return parsed as TokenFile;
  } catch (err) {
    throw new CdcError(
      'STORED_STATE_INVALID',
      `the token file ${file} is not valid (${(err as Error).message}); move it away and create the tokens again`,
    );
  }
}

function writeTokenFile(file: string, content: TokenFile): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

/** A new token of `role`; the file keeps its hash only. The token itself is returned once. */
export function createToken(file: string, role: Role, name: string): { record: TokenRecord; token: string } {
  const content = readTokenFile(file);
  const id = randomBytes(6).toString('hex');
  const token = `cdcui_${id}_${randomBytes(32).toString('base64url')}`;
  const record: TokenRecord = {
    id,
    role,
    name,
    created_at: new Date().toISOString(),
    sha256: sha256(token).toString('hex'),
  };
  content.tokens.push(record);
  writeTokenFile(file, content);
  return { record, token };
}

/** Revokes token `id` (a running dashboard stops accepting it at its next request). */
export function revokeToken(file: string, id: string): TokenRecord {
  const content = readTokenFile(file);
  const record = content.tokens.find((t) => t.id === id);
  if (!record) throw new UsageError(`no token with id ${id} in ${file} (see cdc ui tokens list)`);
  record.revoked_at ??= new Date().toISOString();
  writeTokenFile(file, content);
  return record;
}

export function listTokens(file: string): TokenRecord[] {
  return readTokenFile(file).tokens;
}

/**
 * The tokens a running dashboard accepts. The file is re-read when it changes (one stat per
 * check, microseconds), so a token created or revoked by `cdc ui tokens` counts at once. A file
 * that turns unreadable while running accepts nothing until fixed (fail closed).
 */
export class TokenStore {
  private tokens = new Map<string, TokenRecord>();
  private stamp = '';
  private broken: Error | null = null;

  constructor(readonly file: string) {
    this.reload(true);
  }

  private reload(atStart = false): void {
    let stamp: string;
    try {
      const s = statSync(this.file);
      stamp = `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      stamp = 'missing';
    }
    if (stamp === this.stamp) return;
    try {
      const content = readTokenFile(this.file);
      this.tokens = new Map(content.tokens.map((t) => [t.id, t]));
      this.broken = null;
      this.stamp = stamp;
    } catch (err) {
      if (atStart) throw err;
      this.tokens = new Map();
      this.broken = err as Error;
      this.stamp = '';
    }
  }

  /** Why no token is accepted right now (a broken file), else null. */
  get problem(): Error | null {
    return this.broken;
  }

  /** The active token `token` is, or null (unknown, revoked, malformed). */
  verify(token: string): { id: string; role: Role } | null {
    const m = TOKEN_FORMAT.exec(token);
    if (!m) return null;
    this.reload();
    const record = this.tokens.get(m[1]!);
    if (!record || record.revoked_at !== undefined) return null;
    const expected = Buffer.from(record.sha256, 'hex');
    const actual = sha256(token);
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null;
    return { id: record.id, role: record.role };
  }

  /** The role of token `id` while it is active (a session ends when its token is revoked). */
  activeRole(id: string): Role | null {
    this.reload();
    const record = this.tokens.get(id);
    return record && record.revoked_at === undefined ? record.role : null;
  }

  activeCount(): number {
    this.reload();
    let n = 0;
    for (const t of this.tokens.values()) if (t.revoked_at === undefined) n += 1;
    return n;
  }

  /** Revokes token `id` (the operator's API route); false when there is none. */
  revoke(id: string): boolean {
    if (!this.tokens.has(id)) return false;
    revokeToken(this.file, id);
    this.reload();
    return true;
  }
}
