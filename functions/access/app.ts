import { type ApiRequest, createApiHandler, json, param } from '#shared/http/api.ts';
import { explainQuery, id } from '#shared/http/schemas.ts';
import { parseInput } from '#shared/http/validation.ts';
import { customerLibraryAccess, customerProductAccess } from '#shared/usecases/access.ts';
import type { Dependencies } from '#shared/usecases/deps.ts';
import { explainProductAccess } from '#shared/usecases/explain.ts';

/**
 * The hot path: may this customer use this product now? One DynamoDB read per request. Explain (support's
 * "why?") reads more: the purchases, then each granting purchase's event log.
 */
export function createAccessHandler(deps: Dependencies) {
  const customerId = (request: ApiRequest) => parseInput(id, param(request, 'customerId'), 'customerId');
  return createApiHandler(
    'access',
    {
      'GET /sites/{siteId}/customers/{customerId}/access': async (request) =>
        json(200, await customerLibraryAccess(deps, param(request, 'siteId'), customerId(request), request.now)),
      'GET /sites/{siteId}/customers/{customerId}/access/{productId}': async (request) => {
        const productId = parseInput(id, param(request, 'productId'), 'productId');
        return json(
          200,
          await customerProductAccess(deps, param(request, 'siteId'), customerId(request), productId, request.now),
        );
      },
      // Why the answer is yes or no at `at` (default now); a future `at` projects the current state (§2.1).
      'GET /sites/{siteId}/customers/{customerId}/access/{productId}/explain': async (request) => {
        const productId = parseInput(id, param(request, 'productId'), 'productId');
        const { at } = parseInput(explainQuery, request.query, 'query');
        const siteId = param(request, 'siteId');
        const when = at === undefined ? null : new Date(at);
        return json(200, await explainProductAccess(deps, siteId, customerId(request), productId, when, request.now));
      },
      'GET /health': async () => json(200, { status: 'ok' }),
      // Public like /health. Imported on first request, so the access check's cold start never builds it.
      'GET /openapi.json': async () => json(200, (await import('#shared/http/openapi.ts')).openApiDocument()),
    },
    { clock: deps.clock },
  );
}
