import type { ErrorCode } from '../core/errors.js';

/** The one error of the API client: the daemon's code and message, or `unavailable` when it cannot be reached. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode | 'unavailable',
    message: string,
    readonly status: number,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}
