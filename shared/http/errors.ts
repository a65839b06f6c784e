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
  error: { code: string; message: string; details: FieldProblem[]; redirectUrl?: string };
}

/** Maps a thrown error to its status and body. Anything not named here is a 500 with no internals leaked. */
export function toErrorResponse(error: unknown): { statusCode: number; body: ErrorBody } {
  const body = (code: string, message: string, details: FieldProblem[] = []): ErrorBody => ({
    error: { code, message, details },
  });
  if (error instanceof HttpError) {
    return { statusCode: error.statusCode, body: body(error.code, error.message, error.details) };
  }
  if (error instanceof InvalidInputError) {
    return { statusCode: 400, body: body('invalid_request', error.message, error.details) };
  }
  if (error instanceof UnauthorizedError) return { statusCode: 401, body: body('unauthorized', error.message) };
  if (error instanceof ForbiddenError) return { statusCode: 403, body: body('forbidden', error.message) };
  if (error instanceof NotFoundError) return { statusCode: 404, body: body('not_found', error.message) };
  if (error instanceof CancelAtProcessorError) {
    return {
      statusCode: 409,
      body: {
        error: { code: 'cancel_at_processor', message: error.message, details: [], redirectUrl: error.redirectUrl },
      },
    };
  }
  if (error instanceof ConflictError) {
    return { statusCode: 409, body: body('conflict', error.message, error.details) };
  }
  if (error instanceof UnprocessableError) {
    return { statusCode: 422, body: body('unprocessable', error.message, error.details) };
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
  if (error instanceof DomainError) return { statusCode: 400, body: body('invalid_request', error.message) };
  return { statusCode: 500, body: body('internal_error', 'internal error; the request may be retried') };
}
