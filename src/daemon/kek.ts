import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { RuneError } from '../core/errors.js';
import type { Store } from './store/index.js';

export const KEK_FILE = 'kek';
const KEK_ID_KEY = 'kek_id';

/** Where a rotation puts the new key until it is in place (file mode) or a running env-mode daemon has read it. */
export const pendingKekFile = (kekFile: string) => `${kekFile}.new`;

/**
 * A problem with the key-encryption key: it stops the daemon at start with a clear message, and
 * answers 503 (never 500) to a request that needs a key the running daemon cannot find.
 */
export class KekError extends RuneError {
  constructor(message: string) {
    super('unavailable', message);
    this.name = 'KekError';
  }
}

/** A sealed value could not be opened: tampered, or sealed under another key. Never garbage. */
export class SealError extends Error {}

export const kekId = (kek: Buffer) => createHash('sha256').update(kek).digest('hex').slice(0, 16);

function decodeKek(text: string, source: string): Buffer {
  const kek = Buffer.from(text.trim(), 'base64');
  if (kek.length !== 32) throw new KekError(`${source} must hold a 32-byte key, base64-encoded (e.g. from: openssl rand -base64 32)`);
  return kek;
}

function writeKeyFile(path: string, kek: Buffer): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, kek.toString('base64') + '\n');
  } finally {
    closeSync(fd);
  }
}

function gcm(key: Buffer, plaintext: Buffer, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64');
}

function ungcm(key: Buffer, sealed: string, aad: string): Buffer {
  const raw = Buffer.from(sealed, 'base64');
  if (raw.length < 28) throw new SealError('sealed value is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(raw.subarray(12, 28));
  try {
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
  } catch {
    throw new SealError('authentication failed: the value was tampered with or sealed under another key');
  }
}

export interface Sealed {
  sealed: string;
  wrappedKey: string;
  kekId: string;
}

/** Envelope encryption: a fresh data key per secret, bound to `name`, wrapped by the KEK. */
export function seal(kek: Buffer, name: string, plaintext: string): Sealed {
  const dek = randomBytes(32);
  return { sealed: gcm(dek, Buffer.from(plaintext, 'utf8'), `registry:${name}`), wrappedKey: gcm(kek, dek, `dek:${name}`), kekId: kekId(kek) };
}

export function unseal(kek: Buffer, name: string, s: { sealed: string; wrappedKey: string }): string {
  const dek = ungcm(kek, s.wrappedKey, `dek:${name}`);
  return ungcm(dek, s.sealed, `registry:${name}`).toString('utf8');
}

export function rewrap(oldKek: Buffer, newKek: Buffer, name: string, wrappedKey: string): string {
  return gcm(newKek, ungcm(oldKek, wrappedKey, `dek:${name}`), `dek:${name}`);
}

/**
 * The KEK, from RUNE_KEK or the key file (`<dataDir>/kek` unless keys.kekFile; generated 0600 on
 * first start). It must match the key this data dir's secrets were sealed with; a missing or wrong
 * key is a KekError, never garbage. `get()` notices a rotation done by `runed kek rotate` while
 * the daemon runs and picks up the new key, in both modes.
 */
export class Keyring {
  private kek: Buffer = Buffer.alloc(0);
  readonly kekFile: string;
  private readonly acceptHandOver: boolean;

  /** `acceptHandOver`: only the serving daemon takes (and deletes) a key an env-mode rotation left for it. */
  private constructor(
    private readonly dataDir: string,
    private readonly store: Store,
    private readonly env: NodeJS.ProcessEnv,
    options: { kekFile?: string | undefined; acceptHandOver?: boolean },
  ) {
    this.kekFile = options.kekFile ?? join(dataDir, KEK_FILE);
    this.acceptHandOver = options.acceptHandOver ?? false;
  }

  /** Loads the KEK (creating it on first start); a missing or wrong key is a KekError. */
  static async open(dataDir: string, store: Store, env: NodeJS.ProcessEnv = process.env, options: { kekFile?: string | undefined; acceptHandOver?: boolean } = {}): Promise<Keyring> {
    const keyring = new Keyring(dataDir, store, env, options);
    keyring.kek = await keyring.load();
    return keyring;
  }

  get fromEnv(): boolean {
    return Boolean(this.env.RUNE_KEK);
  }

  async get(): Promise<Buffer> {
    const expected = await this.store.getMeta(KEK_ID_KEY);
    if (expected !== undefined && expected !== kekId(this.kek)) this.kek = await this.load();
    return this.kek;
  }

  private async load(): Promise<Buffer> {
    const expected = await this.store.getMeta(KEK_ID_KEY);
    const file = this.kekFile;
    const pending = pendingKekFile(file);
    const pendingKek = () => (existsSync(pending) ? decodeKek(readFileSync(pending, 'utf8'), pending) : undefined);
    let kek: Buffer;
    if (this.env.RUNE_KEK) {
      kek = decodeKek(this.env.RUNE_KEK, 'RUNE_KEK');
      if (expected !== undefined && kekId(kek) !== expected && this.acceptHandOver) {
        const next = pendingKek();
        if (next && kekId(next) === expected) {
          kek = next; // handed over by an online rotation: held in memory only, so the file goes
          rmSync(pending, { force: true });
        }
      }
    } else if (existsSync(file)) {
      kek = decodeKek(readFileSync(file, 'utf8'), file);
      if (expected !== undefined && kekId(kek) !== expected) {
        const next = pendingKek();
        if (next && kekId(next) === expected) kek = next; // a rotation committed but had not renamed its file yet
      }
    } else if (expected !== undefined) {
      throw new KekError(`the key-encryption key ${file} is missing, but secrets in ${this.dataDir} are sealed with key ${expected}: restore the file or set RUNE_KEK`);
    } else {
      kek = randomBytes(32);
      writeKeyFile(file, kek);
    }
    if (expected === undefined) await this.store.setMeta(KEK_ID_KEY, kekId(kek));
    else if (kekId(kek) !== expected) {
      throw new KekError(`the key-encryption key (${this.env.RUNE_KEK ? 'RUNE_KEK' : file}, id ${kekId(kek)}) is not the one secrets in ${this.dataDir} are sealed with (id ${expected})`);
    }
    return kek;
  }
}

/**
 * Re-wraps every data key under a new KEK in one transaction; readers see the old or the new
 * state, never a mix. With a file KEK the new key is written to `<kekFile>.new` first and renamed
 * after. With RUNE_KEK and `handOver` (a daemon is running), the new key is left 0600 in
 * `<kekFile>.new` for that daemon, which reads it and deletes it.
 */
export async function rotateKek(store: Store, keyring: Keyring, newKekText?: string, handOver = false): Promise<{ rewrapped: number; kekId: string; pending?: string }> {
  const oldKek = await keyring.get();
  const newKek = newKekText ? decodeKek(newKekText, 'RUNE_NEW_KEK') : randomBytes(32);
  if (kekId(newKek) === kekId(oldKek)) throw new KekError('the new key-encryption key is the same as the current one');
  const pending = pendingKekFile(keyring.kekFile);
  const writePending = !keyring.fromEnv || handOver;
  if (writePending) {
    rmSync(pending, { force: true });
    writeKeyFile(pending, newKek);
  }
  let rewrapped: number;
  try {
    rewrapped = await store.transaction(async (tx) => {
      let n = 0;
      for (const row of await tx.registries.sealedRows()) {
        await tx.registries.setWrappedKey(row.name, rewrap(oldKek, newKek, row.name, row.wrapped_key), kekId(newKek));
        n++;
      }
      await tx.setMeta(KEK_ID_KEY, kekId(newKek));
      return n;
    });
  } catch (e) {
    if (writePending) rmSync(pending, { force: true }); // nothing was rotated: no new key may be left behind
    throw e;
  }
  if (!keyring.fromEnv) renameSync(pending, keyring.kekFile);
  return { rewrapped, kekId: kekId(newKek), ...(keyring.fromEnv && handOver ? { pending } : {}) };
}
