import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

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

export function verifySecret(key: Buffer, id: string, secret: string, stored: string): boolean {
  const [version] = stored.split('$', 1);
  if (version !== HASH_VERSION) return false;
  const expected = Buffer.from(hashSecret(key, id, secret));
  const actual = Buffer.from(stored);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
