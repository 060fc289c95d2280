import { randomBytes } from 'node:crypto';

/**
 * Bearer token format (§3): `rune_` + token id + `_` + secret + checksum.
 *
 *   rune_tok_4f8Kq2mZ9xR1sT0vWb3Y_<43 base62 chars of secret><6 base62 chars of CRC-32>
 *
 * The fixed prefix lets secret scanners recognise a token; the id part is the row's primary key
 * (O(1) lookup); the checksum rejects a mistyped token before any lookup.
 */
export const TOKEN_PREFIX = 'rune_';
export const ID_LENGTH = 20;
export const SECRET_LENGTH = 43; // 43 base62 chars ≈ 256.03 bits
export const CHECKSUM_LENGTH = 6;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const TOKEN_PATTERN = new RegExp(
  `^${TOKEN_PREFIX}(tok_[0-9A-Za-z]{${ID_LENGTH}})_([0-9A-Za-z]{${SECRET_LENGTH}})([0-9A-Za-z]{${CHECKSUM_LENGTH}})$`,
);

/** Uniformly random base62 text (rejection sampling: no modulo bias). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    const bytes = randomBytes(length * 2);
    for (const b of bytes) {
      if (b < 248) out += BASE62[b % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

export function newId(prefix: string): string {
  return `${prefix}_${randomBase62(ID_LENGTH)}`;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) crc = CRC_TABLE[(crc ^ text.charCodeAt(i)) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function checksumOf(body: string): string {
  let n = crc32(body);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

export interface MintedToken {
  id: string;
  secret: string;
  /** The whole bearer string, the only thing a user ever handles. */
  bearer: string;
}

/** A new secret for token `id` (a fresh token by default; a rotation keeps its id). */
export function mintToken(id = newId('tok')): MintedToken {
  const secret = randomBase62(SECRET_LENGTH);
  const body = `${TOKEN_PREFIX}${id}_${secret}`;
  return { id, secret, bearer: body + checksumOf(body) };
}

export type ParsedToken =
  | { ok: true; id: string; secret: string }
  | { ok: false; reason: 'malformed' | 'bad_checksum'; id?: string };

export function parseToken(bearer: string): ParsedToken {
  const m = TOKEN_PATTERN.exec(bearer);
  if (!m) return { ok: false, reason: 'malformed' };
  const [, id, secret, checksum] = m as unknown as [string, string, string, string];
  if (checksumOf(`${TOKEN_PREFIX}${id}_${secret}`) !== checksum) return { ok: false, reason: 'bad_checksum', id };
  return { ok: true, id, secret };
}

// Anything that starts like a bearer string, whole or cut short. The id may stay: it is public.
const SECRET_SHAPE = new RegExp(`${TOKEN_PREFIX}[0-9A-Za-z_]{8,}`, 'g');
const WITH_ID = new RegExp(`^${TOKEN_PREFIX}(tok_[0-9A-Za-z]{${ID_LENGTH}})_`);

/** Text with every rune secret replaced by `rune_<id>_[redacted]` (or `rune_[redacted]`). */
export function redactSecrets(text: string): string {
  if (!text.includes(TOKEN_PREFIX)) return text;
  return text.replace(SECRET_SHAPE, (m) => {
    const id = WITH_ID.exec(m)?.[1];
    return id ? `${TOKEN_PREFIX}${id}_[redacted]` : `${TOKEN_PREFIX}[redacted]`;
  });
}
