import { type ApiRequest, actorFor, createApiHandler, json, param } from '#shared/http/api.ts';
import { eventsQuery, grantInput, id, productSelection } from '#shared/http/schemas.ts';
import { parseInput } from '#shared/http/validation.ts';
import { countAccessChange } from '#shared/metrics.ts';
import type { Dependencies } from '#shared/usecases/deps.ts';
import * as purchases from '#shared/usecases/purchases.ts';

/** Grant an offer, the purchase information page, its history, and revoking/resuming product access. */
export function createPurchasesHandler(deps: Dependencies) {
  const site = (request: ApiRequest) => param(request, 'siteId');
  const purchaseId = (request: ApiRequest) => parseInput(id, param(request, 'purchaseId'), 'purchaseId');

  const accessRoute = async (request: ApiRequest, change: purchases.AccessChange) => {
    const { productIds } = parseInput(productSelection, request.body ?? {});
    const actor = actorFor(request);
    const view = await purchases.changeAccess(
      deps,
      site(request),
      purchaseId(request),
      change,
      productIds,
      actor,
      request.now,
    );
    countAccessChange(change, actor);
    return json(200, view);
  };

  return createApiHandler(
    'purchases',
    {
      'POST /sites/{siteId}/purchases': async (request) => {
        const input = parseInput(grantInput, request.body);
        return json(
          201,
          await purchases.grantOfferToCustomer(deps, site(request), input, actorFor(request), request.now),
        );
      },
      'GET /sites/{siteId}/purchases/{purchaseId}': async (request) =>
        json(200, await purchases.getPurchase(deps, site(request), purchaseId(request))),
      'GET /sites/{siteId}/purchases/{purchaseId}/history': async (request) =>
        json(200, await purchases.getHistory(deps, site(request), purchaseId(request))),
      'POST /sites/{siteId}/purchases/{purchaseId}/access/revoke': (request) => accessRoute(request, 'revoke'),
      'POST /sites/{siteId}/purchases/{purchaseId}/access/resume': (request) => accessRoute(request, 'resume'),
      'GET /sites/{siteId}/events': async (request) => {
        const query = parseInput(eventsQuery, request.query, 'query');
        const filter = { purchaseId: query.purchaseId, type: query.type };
        return json(200, await purchases.listEvents(deps, site(request), filter, query.limit, query.after ?? null));
      },
    },
    { clock: deps.clock },
  );
}
