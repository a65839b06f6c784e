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
        expect.stringContaining("$: must have required property 'accessStatus'"),
        expect.stringContaining('$: must NOT have additional properties (accessState)'),
      ]),
    );
    expect(responseProblems(answer({ ...view, version: String(view.version) }), document)).toEqual([
      expect.stringContaining('$.version: must be integer'),
    ]);
    expect(responseProblems(answer({ ...view, status: 'frozen' }), document)).toEqual([
      expect.stringContaining('$.status: must be equal to one of the allowed values'),
    ]);
    expect(responseProblems(answer({ ...view, createdAt: 'yesterday' }), document)).not.toEqual([]);
    const products = [{ ...view.products[0], revokedBy: { type: 'robot' } }, view.products[1]];
    expect(responseProblems(answer({ ...view, products }), document)).toEqual(
      expect.arrayContaining([expect.stringContaining('$.products.0.revokedBy: must match a schema in anyOf')]),
    );
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
      expect.stringContaining("must have required property 'error'"),
      expect.stringContaining('must NOT have additional properties (message)'),
    ]);
  });

  it('allows a request no route takes only the gateway 404 with the error shape', () => {
    const error = { error: { code: 'not_found', message: 'no route GET /nowhere', details: [] } };
    expect(responseProblems(answer(error, { path: '/nowhere', status: 404 }), document)).toEqual([]);
    expect(responseProblems(answer(error, { path: '/nowhere', status: 200 }), document)).toEqual([
      expect.stringContaining('only 404 (or 413) may answer it'),
    ]);
  });

  it('matches concrete paths to their template, the most literal first, ignoring the query string', () => {
    expect(pathTemplate(document, '/sites/s/purchases/p/history?x=1')).toBe(
      '/sites/{siteId}/purchases/{purchaseId}/history',
    );
    expect(pathTemplate(document, '/sites/s/purchases')).toBe('/sites/{siteId}/purchases');
    expect(pathTemplate(document, '/sites/s/purchases/p/extra/more')).toBeNull();
    // As a client sends it: `/./` resolved, the fragment dropped (the fuzz sends both).
    expect(pathTemplate(document, '/sites/./purchases')).toBeNull();
    expect(pathTemplate(document, '/sites/bad id#x/upcoming')).toBeNull();
  });

  it('checks formats (an unknown one fails to compile rather than passing unchecked) and bounds', () => {
    expect(() => schemaProblems(document, { type: 'string', format: 'membergate-id' }, 'x')).toThrow(/unknown format/);
    expect(schemaProblems(document, { type: 'string', format: 'date-time' }, 'yesterday')).toEqual([
      '$: must match format "date-time"',
    ]);
    expect(schemaProblems(document, { type: 'integer', minimum: 1 }, 0)).toEqual(['$: must be >= 1']);
  });
});
