/** Error codes of the HTTP API (§6a) and the HTTP status each one answers with. */
export const ERROR_STATUS = {
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  already_exists: 409,
  failed_precondition: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

/** The one error type of the domain: a code from §6a, a message for people, optional details. */
export class RuneError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'RuneError';
    this.code = code;
    if (details !== undefined) this.details = details;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toBody(): ErrorBody {
    const error: ErrorBody['error'] = { code: this.code, message: this.message };
    if (this.details !== undefined) error.details = this.details;
    return { error };
  }
}

/** Text no store keeps as sent: NUL (PostgreSQL's text refuses it) or a lone surrogate (not UTF-8). */
export const UNSTORABLE = /\p{Cs}|\u0000/u;

/**
 * A value a caller sent, for an error message: whole when short, else its start and its length.
 * A message must not grow with what was sent (it is answered, logged and may be audited).
 */
export const shown = (value: string, max = 100): string => (value.length <= max ? value : `${value.slice(0, max)}… (${value.length} characters)`);

export const invalid = (message: string, details?: Record<string, unknown>) =>
  new RuneError('invalid_argument', message, details);
export const notFound = (message: string) => new RuneError('not_found', message);
export const conflict = (message: string, details?: Record<string, unknown>) =>
  new RuneError('failed_precondition', message, details);
export const alreadyExists = (message: string) => new RuneError('already_exists', message);
export const forbidden = (message: string, details?: Record<string, unknown>) =>
  new RuneError('permission_denied', message, details);

/** Every failed authentication answers exactly this; the real reason goes to the audit trail. */
export const GENERIC_UNAUTHENTICATED = 'invalid or expired token';
