import {
  CancelAtProcessorError,
  ConflictError,
  DomainError,
  type FieldProblem,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  UnauthorizedError,
  UnprocessableError,
} from '../domain/errors.ts';
import { ProcessorError } from '../ports/processor.ts';

/** Errors that only exist at the HTTP edge (transport problems rather than domain rules). */
export class HttpError extends DomainError {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    details: FieldProblem[] = [],
  ) {
    super(message, details);
  }
}

export interface ErrorBody {
  error: { code: string; message: string; details: FieldProblem[]; redirectUrl?: string; correlationId?: string };
}

type ErrorFamily = abstract new (...args: never[]) => DomainError;

/**
 * Every family of domain errors and its status, on purpose. A subclass answers as its nearest mapped
 * ancestor (a new kind of conflict is a 409); a DomainError of no mapped family is a bug, answered as a 500
 * like any unexpected error, never silently as a 400. test/unit/errors.test.ts fails when an exported error
 * class has no family here.
 */
export const ERROR_FAMILIES: ReadonlyArray<readonly [ErrorFamily, number, string]> = [
  [InvalidInputError, 400, 'invalid_request'],
  [UnauthorizedError, 401, 'unauthorized'],
  [ForbiddenError, 403, 'forbidden'],
  [NotFoundError, 404, 'not_found'],
  [ConflictError, 409, 'conflict'],
  [UnprocessableError, 422, 'unprocessable'],
];

/** The mapped family an error belongs to, or null. */
export function familyOf(error: DomainError): { statusCode: number; code: string } | null {
  const family = ERROR_FAMILIES.find(([type]) => error instanceof type);
  return family ? { statusCode: family[1], code: family[2] } : null;
}

/**
 * Maps a thrown error to its status and body. Anything not named here is a 500 with no internals leaked,
 * carrying `correlationId` (the request id the error was logged with) so support can find the log line.
 */
export function toErrorResponse(error: unknown, correlationId?: string): { statusCode: number; body: ErrorBody } {
  const body = (code: string, message: string, details: FieldProblem[] = []): ErrorBody => ({
    error: { code, message, details },
  });
  if (error instanceof HttpError) {
    return { statusCode: error.statusCode, body: body(error.code, error.message, error.details) };
  }
  if (error instanceof CancelAtProcessorError) {
    return {
      statusCode: 409,
      body: {
        error: { code: 'cancel_at_processor', message: error.message, details: [], redirectUrl: error.redirectUrl },
      },
    };
  }
  if (error instanceof DomainError) {
    const family = familyOf(error);
    if (family) return { statusCode: family.statusCode, body: body(family.code, error.message, error.details) };
  }
  if (error instanceof ProcessorError && error.rejectsRequest) {
    // The processor refused the request itself (amount too large, no such subscription): retrying cannot
    // help, so this is the caller's 4xx with the processor's reason, not a 502.
    const field = error.reason.param ?? 'processor';
    const reason = error.reason.code ?? `HTTP ${error.status}`;
    return {
      statusCode: 422,
      body: body('processor_rejected', `the payment processor refused the request: ${error.message}`, [
        { field, message: `${error.processor} refused it (${reason})` },
      ]),
    };
  }
  if (error instanceof ProcessorError) {
    return { statusCode: 502, body: body('processor_error', `the payment processor failed: ${error.message}`) };
  }
  const internal = body('internal_error', 'internal error; the request may be retried');
  if (correlationId) internal.error.correlationId = correlationId;
  return { statusCode: 500, body: internal };
}
