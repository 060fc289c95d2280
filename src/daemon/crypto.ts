import { createHmac, randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { HmacSha256 } from './hmacSha256.js';

export const SERVER_KEY_FILE = 'server.key';
const HASH_VERSION = 'v1';

export class KeyFileError extends Error {}

/**
 * Loads a 32-byte key from `file`, creating it (random, base64, 0600) if it is missing and
 * `create` allows. Written with O_EXCL so two starting processes cannot both write one.
 */
export function loadKeyFile(file: string, create = true): { key: Buffer; created: boolean } {
  let created = false;
  if (create && !existsSync(file)) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      try {
        writeSync(fd, randomBytes(32).toString('base64') + '\n');
      } finally {
        closeSync(fd);
      }
      created = true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new KeyFileError(`cannot create the key file ${file}: ${code ?? (e as Error).message}`);
    }
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new KeyFileError(`cannot read the key file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new KeyFileError(`${file} is damaged: expected a base64 32-byte key`);
  return { key, created };
}

/** The HMAC key token secrets are hashed with: `<dataDir>/server.key` unless keys.serverKeyFile puts it elsewhere. */
export function loadServerKey(dataDir: string, file = join(dataDir, SERVER_KEY_FILE)): Buffer {
  return loadKeyFile(file).key;
}

/** `v1$` + base64url(HMAC-SHA-256(key, id:secret)): the version prefix lets the algorithm change later. */
export function hashSecret(key: Buffer, id: string, secret: string): string {
  return `${HASH_VERSION}$${createHmac('sha256', key).update(`${id}:${secret}`).digest('base64url')}`;
}

/** The key's HMAC state, made once per key (hmacSha256.ts: node:crypto's per-call cost under load). */
const macs = new WeakMap<Buffer, HmacSha256>();
/** Stored hashes decoded to their 32 bytes: public values (they are in the database), bounded like the principal cache. */
const decoded = new Map<string, Uint8Array>();
const DECODED_LIMIT = 50_000;
const message = new Uint8Array(256);
/** `v1$` and exactly the 43 base64url characters of 32 bytes, the last one with its two spare bits clear. */
const STORED_FORM = /^v1\$[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/** Whether `secret` is the one `stored` (hashSecret's text) was made from; every byte is compared whatever differs. */
export function verifySecret(key: Buffer, id: string, secret: string, stored: string): boolean {
  let expected = decoded.get(stored);
  if (!expected) {
    // Only the one text hashSecret writes is accepted: padding, '+/' or spare bits would decode to the same bytes.
    if (!STORED_FORM.test(stored)) return false;
    if (decoded.size >= DECODED_LIMIT) decoded.clear();
    // A copy of its own: a small Buffer is a view of an 8 KB pool slab the cache would otherwise keep alive.
    expected = new Uint8Array(Buffer.from(stored.slice(HASH_VERSION.length + 1), 'base64url'));
    decoded.set(stored, expected);
  }
  let mac = macs.get(key);
  if (!mac) macs.set(key, (mac = new HmacSha256(key)));
  const bytes = utf8Into(`${id}:${secret}`, message);
  try {
    return mac.verify(bytes, expected);
  } finally {
    // No copy of a secret stays behind in the reused buffer.
    bytes.fill(0);
  }
}

/**
 * `text` as UTF-8. Token ids and secrets are ASCII: copied into the reused `into`; anything else
 * goes through Buffer, and `into` is left as zero as it was found.
 */
export function utf8Into(text: string, into: Uint8Array): Uint8Array {
  if (text.length > into.length) return Buffer.from(text, 'utf8');
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) {
      // The ASCII already copied is part of a secret too.
      into.fill(0, 0, i);
      return Buffer.from(text, 'utf8');
    }
    into[i] = c;
  }
  return into.subarray(0, text.length);
}
