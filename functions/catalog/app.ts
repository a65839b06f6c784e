import { type ApiRequest, createApiHandler, json, param } from '#shared/http/api.ts';
import { customerInput, id, offerInput, productInput, settingsInput } from '#shared/http/schemas.ts';
import { parseInput } from '#shared/http/validation.ts';
import * as catalog from '#shared/usecases/catalog.ts';
import type { Dependencies } from '#shared/usecases/deps.ts';

/** Site settings, products, offers and customers. */
export function createCatalogHandler(deps: Dependencies) {
  const site = (request: ApiRequest) => param(request, 'siteId');
  const pathId = (request: ApiRequest, name: string) => parseInput(id, param(request, name), name);

  return createApiHandler(
    'catalog',
    {
      'GET /sites/{siteId}/settings': async (request) => json(200, await catalog.getSettings(deps, site(request))),
      'PUT /sites/{siteId}/settings': async (request) => {
        const input = parseInput(settingsInput, request.body ?? {});
        return json(200, await catalog.updateSettings(deps, site(request), input));
      },
      'PUT /sites/{siteId}/products/{productId}': async (request) => {
        const productId = pathId(request, 'productId');
        const input = parseInput(productInput, request.body);
        return json(200, await catalog.upsertProduct(deps, site(request), productId, input, request.now));
      },
      'DELETE /sites/{siteId}/products/{productId}': async (request) =>
        json(200, await catalog.archiveProduct(deps, site(request), pathId(request, 'productId'), request.now)),
      'PUT /sites/{siteId}/offers/{offerId}': async (request) => {
        const offerId = pathId(request, 'offerId');
        const input = parseInput(offerInput, request.body);
        return json(200, await catalog.upsertOffer(deps, site(request), offerId, input, request.now));
      },
      'DELETE /sites/{siteId}/offers/{offerId}': async (request) =>
        json(200, await catalog.archiveOffer(deps, site(request), pathId(request, 'offerId'), request.now)),
      'PUT /sites/{siteId}/customers/{customerId}': async (request) => {
        const customerId = pathId(request, 'customerId');
        const input = parseInput(customerInput, request.body);
        return json(200, await catalog.upsertCustomer(deps, site(request), customerId, input, request.now));
      },
      'GET /sites/{siteId}/customers/{customerId}': async (request) =>
        json(200, await catalog.getCustomer(deps, site(request), pathId(request, 'customerId'))),
    },
    { clock: deps.clock },
  );
}
