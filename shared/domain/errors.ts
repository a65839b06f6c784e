/**
 * Named domain errors. Use cases throw them; the HTTP edge maps each family to one status code
 * (shared/http/errors.ts), so no handler decides status codes on its own.
 */
export interface FieldProblem {
  field: string;
  message: string;
}

export class DomainError extends Error {
  readonly details: FieldProblem[];
  constructor(message: string, details: FieldProblem[] = []) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

/** Input that is well-formed JSON but says something impossible (unknown product, date in the past). → 400 */
export class InvalidInputError extends DomainError {}

export class NotFoundError extends DomainError {}
export class SiteResourceNotFoundError extends NotFoundError {}
export class PurchaseNotFoundError extends NotFoundError {
  constructor(purchaseId: string) {
    super(`purchase ${purchaseId} not found`);
  }
}
export class CustomerNotFoundError extends NotFoundError {
  constructor(customerId: string) {
    super(`customer ${customerId} not found`);
  }
}

/** The request is valid but the current state does not allow it. → 409 */
export class ConflictError extends DomainError {}

/** Someone else changed the record between our read and our write; the use case may retry. */
export class ConcurrentModificationError extends ConflictError {
  constructor(what: string) {
    super(`${what} was changed by another request; retry`);
  }
}

/** The request is well-formed but cannot be processed as sent (a key reused with other parameters). → 422 */
export class UnprocessableError extends DomainError {}

/** An Idempotency-Key already used with other parameters: refused before anything is done. → 422 */
export class IdempotencyKeyReusedError extends UnprocessableError {
  constructor(key: string) {
    super(`Idempotency-Key "${key}" was already used with other parameters; use a new key for a new request`, [
      { field: 'Idempotency-Key', message: 'already used with other parameters' },
    ]);
  }
}

export class ForbiddenError extends DomainError {}
export class UnauthorizedError extends DomainError {}

/** Rule 8: a PayPal subscriber cancels in PayPal; the answer carries where to go. → 409 with redirectUrl */
export class CancelAtProcessorError extends ConflictError {
  constructor(readonly redirectUrl: string) {
    super('PayPal subscriptions are canceled in PayPal: follow redirectUrl');
  }
}

/** The processor event was already recorded: a redelivery. */
export class DuplicateProcessorEventError extends Error {
  constructor(readonly eventId: string) {
    super(`processor event ${eventId} was already processed`);
    this.name = 'DuplicateProcessorEventError';
  }
}

/** A bulk job already decided this purchase (a redelivered page): the change was not written again. */
export class JobMarkerExistsError extends Error {
  constructor(
    readonly jobId: string,
    readonly purchaseId: string,
  ) {
    super(`job ${jobId} already decided purchase ${purchaseId}`);
    this.name = 'JobMarkerExistsError';
  }
}
