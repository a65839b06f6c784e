import { UnauthorizedError } from '#shared/domain/errors.ts';
import { type ApiRequest, createApiHandler, json, param } from '#shared/http/api.ts';
import { id } from '#shared/http/schemas.ts';
import { parseInput } from '#shared/http/validation.ts';
import { countCancellation } from '#shared/metrics.ts';
import type { Dependencies } from '#shared/usecases/deps.ts';
import { myLibrary, mySubscriptions, selfCancel } from '#shared/usecases/me.ts';

export interface MeOptions {
  /** Where a PayPal subscriber cancels (shared/adapters/paypal.ts payPalCancelRedirectUrl). */
  payPalRedirect: (subscriptionId: string) => string;
}

/** The customer's own side: their library, their subscriptions, and self-cancel when the site allows it. */
export function createMeHandler(deps: Dependencies, options: MeOptions) {
  // The gateway's authorizer and `authorize` guarantee a customer token with both claims on these routes.
  const self = (request: ApiRequest) => {
    const { siteId, customerId } = request.principal ?? {};
    if (!siteId || !customerId) throw new UnauthorizedError('a customer token is required');
    return { siteId, customerId };
  };
  return createApiHandler(
    'me',
    {
      'GET /me/library': async (request) => {
        const { siteId, customerId } = self(request);
        return json(200, await myLibrary(deps, siteId, customerId, request.now));
      },
      'GET /me/subscriptions': async (request) => {
        const { siteId, customerId } = self(request);
        return json(200, await mySubscriptions(deps, siteId, customerId));
      },
      'POST /me/subscriptions/{purchaseId}/cancel': async (request) => {
        const { siteId, customerId } = self(request);
        const purchaseId = parseInput(id, param(request, 'purchaseId'), 'purchaseId');
        const view = await selfCancel(deps, siteId, customerId, purchaseId, request.now, options.payPalRedirect);
        // Self-cancel always stops payments at the end of the period.
        countCancellation('period_end');
        return json(200, view);
      },
    },
    { clock: deps.clock },
  );
}
