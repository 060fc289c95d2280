import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** A secret file that could not be created; `exists` when the only trouble is that the file is there. */
export class SecretFileError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly exists: boolean,
  ) {
    super(message);
  }
}

export interface SecretFile {
  /** The absolute path. */
  path: string;
  write(secret: string): void;
  /** Removes what was reserved (the request that was to mint the secret failed). */
  abort(): void;
}

/**
 * The one way a secret reaches a file: created 0600 (its directory 0700 if missing) before the
 * secret exists, so a secret is never minted that cannot be written. An existing file is refused
 * unless `replace`; then a 0600 temporary file is renamed over it on write.
 */
export function reserveSecretFile(path: string, opts: { replace?: boolean | undefined } = {}): SecretFile {
  const full = resolve(path);
  const dir = dirname(full);
  const target = opts.replace ? join(dir, `.${basename(full)}.${randomBytes(4).toString('hex')}.tmp`) : full;
  let fd: number;
  try {
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
    fd = openSync(target, 'wx', 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new SecretFileError(`${path} already exists`, full, true);
    throw new SecretFileError(`cannot write ${path}: ${code ?? (e as Error).message}`, full, false);
  }
  let open = true;
  const close = () => open && (closeSync(fd), (open = false));
  return {
    path: full,
    write(secret) {
      try {
        writeSync(fd, secret + '\n');
      } finally {
        close();
      }
      if (target !== full) renameSync(target, full);
    },
    abort() {
      close();
      rmSync(target, { force: true });
    },
  };
}

/** Writes `secret` to a new 0600 file (see reserveSecretFile); returns its absolute path. */
export function writeSecretFile(path: string, secret: string, opts: { replace?: boolean } = {}): string {
  const file = reserveSecretFile(path, opts);
  try {
    file.write(secret);
  } catch (e) {
    file.abort();
    throw e;
  }
  return file.path;
}
