import { type ApiRequest, actorFor, createApiHandler, json, param } from '#shared/http/api.ts';
import { bulkRevocationInput, id, idempotencyKeyHeader, pageQuery } from '#shared/http/schemas.ts';
import { parseInput } from '#shared/http/validation.ts';
import * as bulk from '#shared/usecases/bulk-revocations.ts';

/** Bulk revocation jobs (rule 13): start one, read one, list the site's, undo one. The work runs in bulk-worker. */
export function createBulkRevocationsHandler(deps: bulk.BulkDeps) {
  const site = (request: ApiRequest) => param(request, 'siteId');
  const jobId = (request: ApiRequest) => parseInput(id, param(request, 'jobId'), 'jobId');
  const idempotencyKey = (request: ApiRequest) =>
    parseInput(idempotencyKeyHeader, request.headers['idempotency-key'], 'Idempotency-Key') ?? null;
  const started = (result: bulk.StartResult) =>
    json(result.statusCode, result.body, result.replayed ? { 'idempotent-replayed': 'true' } : {});

  return createApiHandler(
    'bulk-revocations',
    {
      'POST /sites/{siteId}/bulk-revocations': async (request) => {
        const input = parseInput(bulkRevocationInput, request.body ?? {});
        const key = idempotencyKey(request);
        return started(await bulk.startBulkRevocation(deps, site(request), input, key, actorFor(request), request.now));
      },
      'GET /sites/{siteId}/bulk-revocations': async (request) => {
        const query = parseInput(pageQuery, request.query, 'query');
        return json(200, await bulk.listBulkJobs(deps, site(request), query.limit, query.cursor ?? null));
      },
      'GET /sites/{siteId}/bulk-revocations/{jobId}': async (request) =>
        json(200, await bulk.getBulkJob(deps, site(request), jobId(request))),
      'POST /sites/{siteId}/bulk-revocations/{jobId}/undo': async (request) => {
        const key = idempotencyKey(request);
        return started(
          await bulk.undoBulkRevocation(deps, site(request), jobId(request), key, actorFor(request), request.now),
        );
      },
    },
    { clock: deps.clock },
  );
}
