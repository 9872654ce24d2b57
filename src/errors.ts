/**
 * Typed errors. Every error that crosses a boundary (CLI, HTTP, GraphQL) carries a stable `code`
 * so callers can branch on it; `field` names the offending input where there is one.
 */
export type ErrorCode =
  | 'BAD_CONFIG'
  | 'BAD_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'RATE_LIMITED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'MODEL_NOT_READY'
  | 'CONSENT_REQUIRED'
  | 'SUPPRESSED'
  | 'PROVIDER_ERROR'
  /** A write sent to a read-only API replica (`shipcast serve --replica`); the writer takes it. */
  | 'READ_ONLY_REPLICA'
  | 'INTERNAL';

export class ShipcastError extends Error {
  readonly code: ErrorCode;
  readonly field?: string;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, opts: { field?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ShipcastError';
    this.code = code;
    this.field = opts.field;
    this.details = opts.details;
  }
}

/** Input that failed validation; `field` is the dotted path of the first offending field. */
export class ValidationError extends ShipcastError {
  constructor(field: string, message: string, details?: Record<string, unknown>) {
    super('BAD_INPUT', `${field}: ${message}`, { field, details });
    this.name = 'ValidationError';
  }
}

export function isShipcastError(e: unknown): e is ShipcastError {
  return e instanceof ShipcastError;
}
