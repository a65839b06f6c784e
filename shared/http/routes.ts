/**
 * Every HTTP route, the function that serves it, and who may call it. The CDK stack creates exactly these
 * API Gateway routes, the local runtime serves exactly these, and each handler must implement exactly the
 * routes assigned to it (checked by the compiler through `RouteKeyOf`). One list, so the three cannot drift.
 */
export type RouteAccess = 'staff' | 'customer' | 'public' | 'webhook';
type HttpMethod = 'GET' | 'PUT' | 'POST' | 'DELETE';
interface RouteSpec {
  method: HttpMethod;
  path: string;
  fn: string;
  /** staff: admin/support/automation token of the path's site; customer: `/me`; webhook: signature; public: none. */
  access: RouteAccess;
}

export const ROUTES = [
  { method: 'GET', path: '/sites/{siteId}/settings', fn: 'catalog', access: 'staff' },
  { method: 'PUT', path: '/sites/{siteId}/settings', fn: 'catalog', access: 'staff' },
  { method: 'PUT', path: '/sites/{siteId}/products/{productId}', fn: 'catalog', access: 'staff' },
  { method: 'DELETE', path: '/sites/{siteId}/products/{productId}', fn: 'catalog', access: 'staff' },
  { method: 'PUT', path: '/sites/{siteId}/offers/{offerId}', fn: 'catalog', access: 'staff' },
  { method: 'DELETE', path: '/sites/{siteId}/offers/{offerId}', fn: 'catalog', access: 'staff' },
  { method: 'PUT', path: '/sites/{siteId}/customers/{customerId}', fn: 'catalog', access: 'staff' },
  { method: 'GET', path: '/sites/{siteId}/customers/{customerId}', fn: 'catalog', access: 'staff' },
  { method: 'POST', path: '/sites/{siteId}/purchases', fn: 'purchases', access: 'staff' },
  { method: 'GET', path: '/sites/{siteId}/purchases/{purchaseId}', fn: 'purchases', access: 'staff' },
  { method: 'GET', path: '/sites/{siteId}/purchases/{purchaseId}/history', fn: 'purchases', access: 'staff' },
  { method: 'POST', path: '/sites/{siteId}/purchases/{purchaseId}/access/revoke', fn: 'purchases', access: 'staff' },
  { method: 'POST', path: '/sites/{siteId}/purchases/{purchaseId}/access/resume', fn: 'purchases', access: 'staff' },
  { method: 'GET', path: '/sites/{siteId}/events', fn: 'purchases', access: 'staff' },
  { method: 'GET', path: '/sites/{siteId}/customers/{customerId}/access', fn: 'access', access: 'staff' },
  { method: 'GET', path: '/sites/{siteId}/customers/{customerId}/access/{productId}', fn: 'access', access: 'staff' },
  {
    method: 'GET',
    path: '/sites/{siteId}/customers/{customerId}/access/{productId}/explain',
    fn: 'access',
    access: 'staff',
  },
  {
    method: 'POST',
    path: '/sites/{siteId}/purchases/{purchaseId}/cancellation/preview',
    fn: 'billing',
    access: 'staff',
  },
  { method: 'POST', path: '/sites/{siteId}/purchases/{purchaseId}/cancellation', fn: 'billing', access: 'staff' },
  { method: 'DELETE', path: '/sites/{siteId}/purchases/{purchaseId}/cancellation', fn: 'billing', access: 'staff' },
  { method: 'POST', path: '/sites/{siteId}/purchases/{purchaseId}/pause', fn: 'billing', access: 'staff' },
  { method: 'POST', path: '/sites/{siteId}/purchases/{purchaseId}/unpause', fn: 'billing', access: 'staff' },
  { method: 'GET', path: '/sites/{siteId}/subscriptions', fn: 'billing', access: 'staff' },
  { method: 'POST', path: '/sites/{siteId}/purchases/{purchaseId}/refunds', fn: 'billing', access: 'staff' },
  { method: 'GET', path: '/sites/{siteId}/upcoming', fn: 'billing', access: 'staff' },
  { method: 'GET', path: '/me/library', fn: 'me', access: 'customer' },
  { method: 'GET', path: '/me/subscriptions', fn: 'me', access: 'customer' },
  { method: 'POST', path: '/me/subscriptions/{purchaseId}/cancel', fn: 'me', access: 'customer' },
  { method: 'POST', path: '/webhooks/stripe', fn: 'webhook-stripe', access: 'webhook' },
  { method: 'POST', path: '/webhooks/paypal', fn: 'webhook-paypal', access: 'webhook' },
  // Integrator webhooks (DESIGN.md §5): staff routes whose handler also requires the admin role.
  { method: 'GET', path: '/sites/{siteId}/webhook-endpoints', fn: 'webhook-endpoints', access: 'staff' },
  { method: 'PUT', path: '/sites/{siteId}/webhook-endpoints/{endpointId}', fn: 'webhook-endpoints', access: 'staff' },
  { method: 'GET', path: '/sites/{siteId}/webhook-endpoints/{endpointId}', fn: 'webhook-endpoints', access: 'staff' },
  {
    method: 'DELETE',
    path: '/sites/{siteId}/webhook-endpoints/{endpointId}',
    fn: 'webhook-endpoints',
    access: 'staff',
  },
  {
    method: 'POST',
    path: '/sites/{siteId}/webhook-endpoints/{endpointId}/rotate-secret',
    fn: 'webhook-endpoints',
    access: 'staff',
  },
  {
    method: 'GET',
    path: '/sites/{siteId}/webhook-endpoints/{endpointId}/deliveries',
    fn: 'webhook-endpoints',
    access: 'staff',
  },
  // Bulk revocation jobs (rule 13, DESIGN.md §2.1): starting and undoing also require an admin or support token.
  { method: 'POST', path: '/sites/{siteId}/bulk-revocations', fn: 'bulk-revocations', access: 'staff' },
  { method: 'GET', path: '/sites/{siteId}/bulk-revocations', fn: 'bulk-revocations', access: 'staff' },
  { method: 'GET', path: '/sites/{siteId}/bulk-revocations/{jobId}', fn: 'bulk-revocations', access: 'staff' },
  { method: 'POST', path: '/sites/{siteId}/bulk-revocations/{jobId}/undo', fn: 'bulk-revocations', access: 'staff' },
  // Drift reconciliation (DESIGN.md §2.1): starting one also requires an admin or support token.
  { method: 'POST', path: '/sites/{siteId}/reconciliations', fn: 'reconciliations', access: 'staff' },
  { method: 'GET', path: '/sites/{siteId}/reconciliations', fn: 'reconciliations', access: 'staff' },
  { method: 'GET', path: '/sites/{siteId}/reconciliations/{jobId}', fn: 'reconciliations', access: 'staff' },
  { method: 'GET', path: '/health', fn: 'access', access: 'public' },
  // The OpenAPI document (shared/http/openapi.ts), built on its first request.
  { method: 'GET', path: '/openapi.json', fn: 'access', access: 'public' },
] as const satisfies readonly RouteSpec[];

type DeclaredRoute = (typeof ROUTES)[number];
/** A route, with `access` widened so that code can handle kinds no route uses yet. */
export type RouteDefinition = DeclaredRoute extends infer R
  ? R extends DeclaredRoute
    ? Omit<R, 'access'> & { access: RouteAccess }
    : never
  : never;
export type ApiFunctionName = RouteDefinition['fn'];
export type RouteKey = `${RouteDefinition['method']} ${RouteDefinition['path']}`;

/** The API Gateway route keys served by one function, e.g. `'GET /sites/{siteId}/settings'`. */
export type RouteKeyOf<F extends ApiFunctionName> =
  Extract<RouteDefinition, { fn: F }> extends infer R
    ? R extends { method: infer M extends string; path: infer P extends string }
      ? `${M} ${P}`
      : never
    : never;

export function routeKey(route: Pick<RouteDefinition, 'method' | 'path'>): string {
  return `${route.method} ${route.path}`;
}

export const API_FUNCTIONS: readonly ApiFunctionName[] = [...new Set(ROUTES.map((route) => route.fn))];
