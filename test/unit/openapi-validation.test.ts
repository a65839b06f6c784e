import { describe, expect, it } from '@jest/globals';
import { purchaseView } from '../../shared/domain/views.ts';
import { buildOpenApiDocument } from '../../shared/http/openapi.ts';
import {
  type Document,
  type ObservedResponse,
  pathTemplate,
  responseProblems,
  schemaProblems,
} from '../support/openapi-validation.ts';
import { ADMIN, aPurchase, revokedGrant } from './fixtures.ts';

// The validator is run against a fresh generation, so these tests hold the schemas as they are in the code.
const document = buildOpenApiDocument() as unknown as Document;
const PURCHASE_PATH = '/sites/site-1/purchases/purchase-1';

function answer(body: unknown, overrides: Partial<ObservedResponse> = {}): ObservedResponse {
  return { method: 'GET', path: PURCHASE_PATH, status: 200, contentType: 'application/json', body, ...overrides };
}

/** A purchase page as the API answers it: through JSON, like the wire. */
const view = JSON.parse(
  JSON.stringify(
    purchaseView(
      aPurchase({
        products: [
          revokedGrant('course', '2026-02-20T00:00:00.000Z', ADMIN, 'Revoked by owner@example.com'),
          { productId: 'community', access: 'active', revokedAt: null, revokedBy: null, label: null },
        ],
      }),
    ),
  ),
);

describe('responses held to the OpenAPI document', () => {
  it('accepts the purchase page exactly as the view builds it', () => {
    expect(responseProblems(answer(view), document)).toEqual([]);
  });

  it('refuses a purchase page whose field was renamed, retyped, added or dropped without changing the schema', () => {
    const { accessStatus, ...renamed } = view;
    expect(responseProblems(answer({ ...renamed, accessState: accessStatus }), document)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('misses required field accessStatus'),
        expect.stringContaining('field accessState is not in the document'),
      ]),
    );
    expect(responseProblems(answer({ ...view, version: String(view.version) }), document)).toEqual([
      expect.stringContaining('$.version: string is not integer'),
    ]);
    expect(responseProblems(answer({ ...view, status: 'frozen' }), document)).toEqual([
      expect.stringContaining('$.status: "frozen" is not one of'),
    ]);
    expect(responseProblems(answer({ ...view, createdAt: 'yesterday' }), document)).not.toEqual([]);
    const products = [{ ...view.products[0], revokedBy: { type: 'robot' } }, view.products[1]];
    expect(responseProblems(answer({ ...view, products }), document)).toEqual([
      expect.stringContaining('$.products[0].revokedBy: matches none of anyOf'),
    ]);
  });

  it('refuses a status or content type the operation does not document', () => {
    expect(responseProblems(answer(view, { status: 418 }), document)).toEqual([
      expect.stringContaining('status 418 is not documented'),
    ]);
    expect(responseProblems(answer(view, { contentType: 'text/html' }), document)).toEqual([
      expect.stringContaining('content type text/html is not documented'),
    ]);
    expect(responseProblems(answer(undefined), document)).toEqual([expect.stringContaining('has none')]);
  });

  it('holds error answers to the error shape', () => {
    const error = { error: { code: 'not_found', message: 'purchase purchase-1 not found', details: [] } };
    expect(responseProblems(answer(error, { status: 404 }), document)).toEqual([]);
    expect(responseProblems(answer({ message: 'not found' }, { status: 404 }), document)).toEqual([
      expect.stringContaining('misses required field error'),
      expect.stringContaining('field message is not in the document'),
    ]);
  });

  it('allows a request no route takes only the gateway 404 with the error shape', () => {
    const error = { error: { code: 'not_found', message: 'no route GET /nowhere', details: [] } };
    expect(responseProblems(answer(error, { path: '/nowhere', status: 404 }), document)).toEqual([]);
    expect(responseProblems(answer(error, { path: '/nowhere', status: 200 }), document)).toEqual([
      expect.stringContaining('only 404 may answer it'),
    ]);
  });

  it('matches concrete paths to their template, the most literal first, ignoring the query string', () => {
    expect(pathTemplate(document, '/sites/s/purchases/p/history?x=1')).toBe(
      '/sites/{siteId}/purchases/{purchaseId}/history',
    );
    expect(pathTemplate(document, '/sites/s/purchases')).toBe('/sites/{siteId}/purchases');
    expect(pathTemplate(document, '/sites/s/purchases/p/extra/more')).toBeNull();
  });

  it('refuses a keyword or format it does not implement rather than passing it unchecked', () => {
    expect(() => schemaProblems(document, { type: 'string', format: 'uuid' }, 'x')).toThrow(/format uuid/);
    expect(() => schemaProblems(document, { dependentRequired: { a: ['b'] } }, {})).toThrow(/dependentRequired/);
    expect(schemaProblems(document, { type: 'integer', minimum: 1 }, 0)).toEqual(['$: 0 breaks minimum 1']);
  });
});
