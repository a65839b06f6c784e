import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { type SpecData, Validator } from '@seriousme/openapi-schema-validator';
import { buildOpenApiDocument, OPERATIONS, openApiText } from '../../shared/http/openapi.ts';
import { ROUTES, routeKey } from '../../shared/http/routes.ts';

const COMMITTED = new URL('../../openapi.json', import.meta.url);
const document = buildOpenApiDocument();
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

type Json = Record<string, unknown>;

/** Every `$ref` anywhere in the document, with where it was found. */
function refsOf(value: unknown, at = '#'): Array<{ ref: string; at: string }> {
  if (Array.isArray(value)) return value.flatMap((item, index) => refsOf(item, `${at}/${index}`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as Json).flatMap(([key, item]) =>
    key === '$ref' ? [{ ref: item as string, at }] : refsOf(item, `${at}/${key}`),
  );
}

function pointer(ref: string): unknown {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>((node, part) => (node as Json | undefined)?.[part], document);
}

describe('the OpenAPI document', () => {
  it('is what `npm run openapi` writes: the committed openapi.json is the generated one', () => {
    // On failure: run `npm run openapi` and commit openapi.json with the schema change.
    expect(readFileSync(COMMITTED, 'utf8')).toBe(openApiText());
  });

  it("is valid OpenAPI 3.1 for a validator from npm (the specification's own JSON Schema), and a broken one is not", async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(buildOpenApiDocument()) as unknown as SpecData);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');

    const broken = structuredClone(buildOpenApiDocument()) as { paths: Record<string, Record<string, unknown>> };
    // A parameter `in: body` is Swagger 2, not OpenAPI 3.1.
    (broken.paths['/sites/{siteId}/settings']!.get as { parameters: { in: string }[] }).parameters[0]!.in = 'body';
    expect((await new Validator().validate(broken as unknown as SpecData)).valid).toBe(false);
  });

  it('has one operation per route of ROUTES, and none for a path or method no route has', () => {
    const documented = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((key) => METHODS.includes(key))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(ROUTES.map(routeKey).sort());
    expect(Object.keys(OPERATIONS).sort()).toEqual(ROUTES.map(routeKey).sort());
  });

  it('is OpenAPI 3.1 with JSON Schema 2020-12 schemas, unique operation ids, and every $ref resolving', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.jsonSchemaDialect).toBe('https://json-schema.org/draft/2020-12/schema');
    const ids = Object.values(document.paths).flatMap((item) =>
      Object.values(item).map((operation) => (operation as { operationId: string }).operationId),
    );
    expect(new Set(ids).size).toBe(ids.length);
    const refs = refsOf(document);
    expect(refs.length).toBeGreaterThan(50);
    const dangling = refs.filter(({ ref }) => !ref.startsWith('#/') || pointer(ref) === undefined);
    expect(dangling).toEqual([]);
  });

  it('declares every path parameter, and security by who may call the route', () => {
    for (const route of ROUTES) {
      const operation = (document.paths[route.path] as Json)[route.method.toLowerCase()] as {
        parameters?: Array<{ name: string; in: string; required: boolean }>;
        security: Json[];
        responses: Json;
      };
      const declared = (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
      const inPath = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      expect({ route: routeKey(route), params: declared }).toEqual({ route: routeKey(route), params: inPath });
      const schemes = operation.security.flatMap((requirement) => Object.keys(requirement));
      const expected = { staff: ['bearerAuth'], customer: ['bearerAuth'], public: [], webhook: [] as string[] }[
        route.access
      ];
      if (route.access === 'webhook') expect(schemes).toEqual([expect.stringMatching(/Signature$/)]);
      else expect({ route: routeKey(route), schemes }).toEqual({ route: routeKey(route), schemes: expected });
      // Every operation documents the error shape for bad input and for a failure.
      expect(operation.responses).toMatchObject({
        400: { $ref: '#/components/responses/Error400' },
        500: { $ref: '#/components/responses/Error500' },
      });
      if (route.access === 'staff' || route.access === 'customer') {
        expect(operation.responses).toHaveProperty('401');
        expect(operation.responses).toHaveProperty('403');
      }
    }
  });

  it('takes request bodies from the same zod schemas the handlers parse (strict: unknown fields refused)', () => {
    const grant = (document.paths['/sites/{siteId}/purchases'] as Json).post as {
      requestBody: { content: { 'application/json': { schema: Json } } };
    };
    const schema = grant.requestBody.content['application/json'].schema;
    expect(schema).toMatchObject({ type: 'object', required: ['customerId', 'offerId'], additionalProperties: false });
    expect(Object.keys(schema.properties as Json).sort()).toEqual(
      ['currentPeriodEnd', 'customerId', 'offerId', 'processor', 'processorSubscriptionId'].sort(),
    );
  });

  it('documents the Idempotency-Key header and the cursors of the lists', () => {
    const refund = (document.paths['/sites/{siteId}/purchases/{purchaseId}/refunds'] as Json).post as {
      parameters: Array<{ name: string; in: string }>;
    };
    expect(refund.parameters).toContainEqual(expect.objectContaining({ name: 'Idempotency-Key', in: 'header' }));
    const events = (document.paths['/sites/{siteId}/events'] as Json).get as {
      parameters: Array<{ name: string; in: string }>;
    };
    expect(events.parameters.filter((p) => p.in === 'query').map((p) => p.name)).toEqual(
      expect.arrayContaining(['after', 'limit', 'purchaseId', 'type']),
    );
  });
});
