import { type ApiRequest, actorFor, createApiHandler, json, param } from '#shared/http/api.ts';
import { id, idempotencyKeyHeader, pageQuery, reconciliationInput } from '#shared/http/schemas.ts';
import { parseInput } from '#shared/http/validation.ts';
import * as reconcile from '#shared/usecases/reconciliations.ts';

/** Drift reconciliation (DESIGN.md §2.1): start one, read its report, list the site's. The work runs in the worker. */
export function createReconciliationsHandler(
  deps: Omit<reconcile.ReconciliationDeps, 'throttle'> & Partial<Pick<reconcile.ReconciliationDeps, 'throttle'>>,
) {
  const site = (request: ApiRequest) => param(request, 'siteId');
  const jobId = (request: ApiRequest) => parseInput(id, param(request, 'jobId'), 'jobId');
  // The API never reads a processor: only the worker paces reads.
  const api: reconcile.ReconciliationDeps = {
    ...deps,
    throttle: deps.throttle ?? { read: (_processor, action) => action() },
  };
  return createApiHandler(
    'reconciliations',
    {
      'POST /sites/{siteId}/reconciliations': async (request) => {
        const input = parseInput(reconciliationInput, request.body ?? {});
        const key = parseInput(idempotencyKeyHeader, request.headers['idempotency-key'], 'Idempotency-Key') ?? null;
        const result = await reconcile.startReconciliation(
          api,
          site(request),
          input,
          key,
          actorFor(request),
          request.now,
        );
        return json(result.statusCode, result.body, result.replayed ? { 'idempotent-replayed': 'true' } : {});
      },
      'GET /sites/{siteId}/reconciliations': async (request) => {
        const query = parseInput(pageQuery, request.query, 'query');
        return json(200, await reconcile.listReconciliations(api, site(request), query.limit, query.cursor ?? null));
      },
      'GET /sites/{siteId}/reconciliations/{jobId}': async (request) => {
        const query = parseInput(pageQuery, request.query, 'query');
        return json(
          200,
          await reconcile.getReconciliation(api, site(request), jobId(request), query.limit, query.cursor ?? null),
        );
      },
    },
    { clock: deps.clock },
  );
}
