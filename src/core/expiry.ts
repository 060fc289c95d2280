/** How close to its expiry a token is "expiring soon": answers carry EXPIRES_HEADER, the CLI warns, the TUI marks it. */
export const EXPIRY_WARNING_MS = 7 * 86_400_000;

/** Set on every authenticated answer whose token expires within EXPIRY_WARNING_MS: its expiry, RFC 3339. */
export const EXPIRES_HEADER = 'Rune-Token-Expires';

/** Set on answers to a request made with a secret a rotation replaced: when that secret stops working, RFC 3339. */
export const ROTATED_HEADER = 'Rune-Token-Rotated';

/** Grace period of a rotation when none is given: long enough to roll a secret out, short enough to notice. */
export const DEFAULT_ROTATION_GRACE = '1h';

export function expiresSoon(expiresAt: string | number | null | undefined, now = Date.now()): boolean {
  if (expiresAt === null || expiresAt === undefined) return false;
  const at = typeof expiresAt === 'number' ? expiresAt : Date.parse(expiresAt);
  return at - now <= EXPIRY_WARNING_MS;
}
