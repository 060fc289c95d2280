import { ApiError } from '../api/errors.js';
import { ConfigError } from '../config/paths.js';
import type { Target } from '../config/target.js';

/** A mistake in how a command or field was used: the message says what to do instead. */
export class UsageError extends Error {}

/** One line (stderr, a TUI status row) that says what went wrong and what to do next. */
export function describeError(e: unknown, target?: Target): string {
  if (e instanceof ApiError) {
    const server = target?.server ?? (typeof e.details?.server === 'string' ? e.details.server : 'HOST:PORT');
    switch (e.code) {
      case 'unavailable':
        if (/CERT|SELF_SIGNED|TLS|SSL/.test(String(e.details?.cause ?? ''))) {
          return `${e.message}: the server's certificate is not trusted; give its CA with "rune login NAME --server ${server} --ca-file CA.pem --token-file FILE"`;
        }
        return `${e.message}: start it on that host with "runed" (or "npm start"), or choose another with --server or --context`;
      case 'unauthenticated':
        return `${e.message}: log in again with "rune login ${target?.context ?? 'NAME'} --server ${server} --token-file FILE"`;
      case 'rate_limited':
        return `${e.message}`;
      default:
        return e.message;
    }
  }
  if (e instanceof UsageError || e instanceof ConfigError) return e.message;
  return (e as Error)?.message ?? String(e);
}

