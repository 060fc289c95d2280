import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const SERVER_KEY_FILE = 'server.key';
const HASH_VERSION = 'v1';

/**
 * Loads the HMAC key that token secrets are hashed with, creating it (32 random bytes, 0600) on
 * first start. Written with O_EXCL so two starting daemons cannot both write one.
 */
export function loadServerKey(dataDir: string): Buffer {
  const file = join(dataDir, SERVER_KEY_FILE);
  if (!existsSync(file)) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      try {
        writeSync(fd, randomBytes(32).toString('base64') + '\n');
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} is damaged: expected a base64 32-byte key`);
  return key;
}

/** `v1$` + base64url(HMAC-SHA-256(key, id:secret)): the version prefix lets the algorithm change later. */
export function hashSecret(key: Buffer, id: string, secret: string): string {
  return `${HASH_VERSION}$${createHmac('sha256', key).update(`${id}:${secret}`).digest('base64url')}`;
}

export function verifySecret(key: Buffer, id: string, secret: string, stored: string): boolean {
  const [version] = stored.split('$', 1);
  if (version !== HASH_VERSION) return false;
  const expected = Buffer.from(hashSecret(key, id, secret));
  const actual = Buffer.from(stored);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
