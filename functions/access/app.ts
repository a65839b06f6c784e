import { type ApiRequest, createApiHandler, json, param } from '#shared/http/api.ts';
import { id } from '#shared/http/schemas.ts';
import { parseInput } from '#shared/http/validation.ts';
import { customerLibraryAccess, customerProductAccess } from '#shared/usecases/access.ts';
import type { Dependencies } from '#shared/usecases/deps.ts';

/** The hot path: may this customer use this product now? One DynamoDB read per request. */
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
      'GET /health': async () => json(200, { status: 'ok' }),
    },
    { clock: deps.clock },
  );
}
