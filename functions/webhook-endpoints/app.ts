import { ForbiddenError } from '#shared/domain/errors.ts';
import { type ApiRequest, actorFor, createApiHandler, json, param } from '#shared/http/api.ts';
import { id, pageQuery, webhookEndpointInput } from '#shared/http/schemas.ts';
import { parseInput } from '#shared/http/validation.ts';
import type { WebhookEndpointDeps } from '#shared/usecases/webhook-endpoints.ts';
import * as endpoints from '#shared/usecases/webhook-endpoints.ts';

/**
 * Integrator webhook endpoints: register, read, list, delete, rotate the secret, the delivery log. Admins
 * only: an endpoint receives every event of the site and its secret signs them, so support and automation
 * tokens get a 403 (the route list lets staff through; the role is checked here, before anything is read).
 */
export function createWebhookEndpointsHandler(deps: WebhookEndpointDeps) {
  const site = (request: ApiRequest) => param(request, 'siteId');
  const endpointId = (request: ApiRequest) => parseInput(id, param(request, 'endpointId'), 'endpointId');
  const admin =
    <T>(route: (request: ApiRequest) => Promise<T>) =>
    async (request: ApiRequest) => {
      if (request.principal?.role !== 'admin') {
        throw new ForbiddenError('only an admin token may manage webhook endpoints');
      }
      return route(request);
    };

  return createApiHandler(
    'webhook-endpoints',
    {
      'GET /sites/{siteId}/webhook-endpoints': admin(async (request) => {
        const query = parseInput(pageQuery, request.query, 'query');
        return json(200, await endpoints.listEndpoints(deps, site(request), query.limit, query.cursor ?? null));
      }),
      'PUT /sites/{siteId}/webhook-endpoints/{endpointId}': admin(async (request) => {
        const endpoint = endpointId(request);
        const input = parseInput(webhookEndpointInput, request.body);
        const result = await endpoints.putEndpoint(deps, site(request), endpoint, input, actorFor(request));
        return json(result.created ? 201 : 200, result.endpoint);
      }),
      'GET /sites/{siteId}/webhook-endpoints/{endpointId}': admin(async (request) =>
        json(200, await endpoints.getEndpoint(deps, site(request), endpointId(request))),
      ),
      'DELETE /sites/{siteId}/webhook-endpoints/{endpointId}': admin(async (request) => {
        await endpoints.deleteEndpoint(deps, site(request), endpointId(request));
        return { statusCode: 204 };
      }),
      'POST /sites/{siteId}/webhook-endpoints/{endpointId}/rotate-secret': admin(async (request) =>
        json(200, await endpoints.rotateSecret(deps, site(request), endpointId(request))),
      ),
      'GET /sites/{siteId}/webhook-endpoints/{endpointId}/deliveries': admin(async (request) => {
        const endpoint = endpointId(request);
        const query = parseInput(pageQuery, request.query, 'query');
        return json(
          200,
          await endpoints.listDeliveries(deps, site(request), endpoint, query.limit, query.cursor ?? null),
        );
      }),
    },
    { clock: deps.clock },
  );
}
