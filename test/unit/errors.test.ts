import { describe, expect, it } from '@jest/globals';
import * as errors from '../../shared/domain/errors.ts';
import {
  ConcurrentModificationError,
  ConflictError,
  CustomerNotFoundError,
  DomainError,
  ForbiddenError,
  IdempotencyKeyReusedError,
  InvalidInputError,
  NotFoundError,
  PurchaseNotFoundError,
  UnauthorizedError,
} from '../../shared/domain/errors.ts';
import { ERROR_FAMILIES, HttpError, toErrorResponse } from '../../shared/http/errors.ts';
import { ProcessorError } from '../../shared/ports/processor.ts';

describe('toErrorResponse', () => {
  it('maps invalid input to 400 invalid_request with the field details', () => {
    const details = [{ field: 'productIds[1]', message: 'product nope is not part of this purchase' }];

    const response = toErrorResponse(new InvalidInputError('bad product', details));

    expect(response).toEqual({
      statusCode: 400,
      body: { error: { code: 'invalid_request', message: 'bad product', details } },
    });
  });

  it('maps an unauthorized error to 401', () => {
    expect(toErrorResponse(new UnauthorizedError('no token'))).toEqual({
      statusCode: 401,
      body: { error: { code: 'unauthorized', message: 'no token', details: [] } },
    });
  });

  it('maps a forbidden error to 403', () => {
    expect(toErrorResponse(new ForbiddenError('other site'))).toEqual({
      statusCode: 403,
      body: { error: { code: 'forbidden', message: 'other site', details: [] } },
    });
  });

  it.each([
    ['NotFoundError', new NotFoundError('gone')],
    ['PurchaseNotFoundError', new PurchaseNotFoundError('purchase-1')],
    ['CustomerNotFoundError', new CustomerNotFoundError('customer-1')],
  ])('maps %s to 404 not_found', (_name, error) => {
    const response = toErrorResponse(error);

    expect(response.statusCode).toBe(404);
    expect(response.body.error.code).toBe('not_found');
  });

  it('maps a conflict to 409 with its message', () => {
    const response = toErrorResponse(new ConflictError('only subscriptions and payment plans can be canceled'));

    expect(response).toEqual({
      statusCode: 409,
      body: {
        error: { code: 'conflict', message: 'only subscriptions and payment plans can be canceled', details: [] },
      },
    });
  });

  it('maps a concurrent modification to 409', () => {
    expect(toErrorResponse(new ConcurrentModificationError('purchase purchase-1')).statusCode).toBe(409);
  });

  it('uses the status and code an HttpError carries', () => {
    const response = toErrorResponse(new HttpError(415, 'unsupported_media_type', 'send JSON'));

    expect(response).toEqual({
      statusCode: 415,
      body: { error: { code: 'unsupported_media_type', message: 'send JSON', details: [] } },
    });
  });

  it('a domain error of no mapped family is an unexpected error: 500 with the correlation id, never a 400', () => {
    const response = toErrorResponse(new DomainError('odd'), 'req-123');

    expect(response.statusCode).toBe(500);
    expect(response.body.error).toMatchObject({ code: 'internal_error', correlationId: 'req-123' });
  });

  it('every exported domain error class has a status on purpose (a mapped family)', () => {
    const classes = Object.entries(errors).filter(
      ([, value]) => typeof value === 'function' && value.prototype instanceof DomainError,
    );
    expect(classes.length).toBeGreaterThan(8);
    for (const [name, type] of classes) {
      const family = ERROR_FAMILIES.find(([mapped]) => type === mapped || type.prototype instanceof mapped);
      expect([name, family !== undefined]).toEqual([name, true]);
    }
  });

  it('maps an idempotency key reused with other parameters to 422', () => {
    const response = toErrorResponse(new IdempotencyKeyReusedError('k-2'));
    expect(response.statusCode).toBe(422);
    expect(response.body.error.details[0]!.field).toBe('Idempotency-Key');
  });

  it('a processor refusing the request is a 422 with its reason; a processor failure is a 502', () => {
    const refused = new ProcessorError('stripe', 'refund failed', 400, { code: 'amount_too_large', param: 'amount' });
    expect(toErrorResponse(refused)).toMatchObject({
      statusCode: 422,
      body: { error: { code: 'processor_rejected', details: [{ field: 'amount' }] } },
    });
    for (const status of [401, 403, 408, 429, 500, 503, undefined]) {
      expect(toErrorResponse(new ProcessorError('stripe', 'failed', status)).statusCode).toBe(502);
    }
  });

  it('maps an unknown error to 500 without leaking its message', () => {
    const response = toErrorResponse(new Error('connect ECONNREFUSED 10.0.0.5:8000 password=hunter2'));

    expect(response.statusCode).toBe(500);
    expect(response.body.error.code).toBe('internal_error');
    expect(JSON.stringify(response.body)).not.toMatch(/ECONNREFUSED|hunter2/);
  });

  it('maps a thrown non-Error value to 500', () => {
    expect(toErrorResponse('boom').statusCode).toBe(500);
  });
});
