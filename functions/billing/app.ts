import { type ApiRequest, actorFor, createApiHandler, json, param } from '#shared/http/api.ts';
import {
  cancelInput,
  id,
  idempotencyKeyHeader,
  pauseInput,
  refundInput,
  subscriptionsQuery,
  upcomingQuery,
} from '#shared/http/schemas.ts';
import { parseInput } from '#shared/http/validation.ts';
import { countCancellation } from '#shared/metrics.ts';
import * as billing from '#shared/usecases/billing.ts';
import type { Dependencies } from '#shared/usecases/deps.ts';
import { refundPurchase } from '#shared/usecases/refunds.ts';
import { listUpcoming } from '#shared/usecases/upcoming.ts';

/**
 * Cancel payments (now, at period end, on a date), preview, stop a pending cancellation, pause, the list, and
 * the calendar of upcoming timed changes.
 */
export function createBillingHandler(deps: Dependencies) {
  const site = (request: ApiRequest) => param(request, 'siteId');
  const purchaseId = (request: ApiRequest) => parseInput(id, param(request, 'purchaseId'), 'purchaseId');

  return createApiHandler(
    'billing',
    {
      'POST /sites/{siteId}/purchases/{purchaseId}/cancellation/preview': async (request) => {
        const input = parseInput(cancelInput, request.body);
        return json(
          200,
          await billing.previewCancellation(deps, site(request), purchaseId(request), input, request.now),
        );
      },
      'POST /sites/{siteId}/purchases/{purchaseId}/cancellation': async (request) => {
        const input = parseInput(cancelInput, request.body);
        const actor = actorFor(request);
        const view = await billing.cancelPayments(deps, site(request), purchaseId(request), input, actor, request.now);
        countCancellation(input.when);
        return json(200, view);
      },
      'DELETE /sites/{siteId}/purchases/{purchaseId}/cancellation': async (request) =>
        json(
          200,
          await billing.stopPendingCancellation(
            deps,
            site(request),
            purchaseId(request),
            actorFor(request),
            request.now,
          ),
        ),
      'POST /sites/{siteId}/purchases/{purchaseId}/pause': async (request) => {
        const { resumesAt } = parseInput(pauseInput, request.body ?? {});
        const actor = actorFor(request);
        return json(
          200,
          await billing.pauseBilling(deps, site(request), purchaseId(request), resumesAt ?? null, actor, request.now),
        );
      },
      'POST /sites/{siteId}/purchases/{purchaseId}/unpause': async (request) =>
        json(
          200,
          await billing.unpauseBilling(deps, site(request), purchaseId(request), actorFor(request), request.now),
        ),
      'POST /sites/{siteId}/purchases/{purchaseId}/refunds': async (request) => {
        const input = parseInput(refundInput, request.body ?? {});
        const idempotencyKey = parseInput(idempotencyKeyHeader, request.headers['idempotency-key'], 'Idempotency-Key');
        const result = await refundPurchase(
          deps,
          site(request),
          purchaseId(request),
          { amount: input.amount ?? null, revokeAccess: input.revokeAccess, idempotencyKey: idempotencyKey ?? null },
          actorFor(request),
          request.now,
        );
        return json(result.statusCode, result.body, result.replayed ? { 'idempotent-replayed': 'true' } : {});
      },
      'GET /sites/{siteId}/subscriptions': async (request) => {
        const query = parseInput(subscriptionsQuery, request.query, 'query');
        const page = await billing.listSubscriptions(
          deps,
          site(request),
          { status: query.status, offerId: query.offerId },
          query.limit,
          query.cursor ?? null,
        );
        return json(200, page);
      },
      'GET /sites/{siteId}/upcoming': async (request) => {
        const query = parseInput(upcomingQuery, request.query, 'query');
        return json(200, await listUpcoming(deps, site(request), query, request.now));
      },
    },
    { clock: deps.clock },
  );
}
