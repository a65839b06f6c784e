import { describe, expect, it } from '@jest/globals';
import { compileRoutes, matchRoute } from '../../infra/local/gateway.ts';
import { ROUTES } from '../../shared/http/routes.ts';

const compiled = compileRoutes();

describe('matchRoute (API Gateway matching for the local runtime)', () => {
  it('matches a template and extracts its parameter', () => {
    const match = matchRoute(compiled, 'GET', '/sites/site-1/settings');

    expect(match).toMatchObject({ key: 'GET /sites/{siteId}/settings', params: { siteId: 'site-1' } });
  });

  it('extracts every parameter of a template with several', () => {
    const match = matchRoute(compiled, 'GET', '/sites/site-1/customers/customer-1/access/course');

    expect(match).toMatchObject({
      key: 'GET /sites/{siteId}/customers/{customerId}/access/{productId}',
      params: { siteId: 'site-1', customerId: 'customer-1', productId: 'course' },
    });
  });

  it('tells a route apart from a longer route that shares its prefix', () => {
    const match = matchRoute(compiled, 'GET', '/sites/site-1/customers/customer-1/access');

    expect(match?.key).toBe('GET /sites/{siteId}/customers/{customerId}/access');
  });

  it('picks the route of the request method among routes with the same path', () => {
    const match = matchRoute(compiled, 'PUT', '/sites/site-1/settings');

    expect(match?.key).toBe('PUT /sites/{siteId}/settings');
  });

  it('decodes percent-encoded parameters', () => {
    const match = matchRoute(compiled, 'GET', '/sites/site%201/purchases/p%3A1');

    expect(match?.params).toEqual({ siteId: 'site 1', purchaseId: 'p:1' });
  });

  it('matches a path without parameters exactly', () => {
    expect(matchRoute(compiled, 'GET', '/health')).toMatchObject({ key: 'GET /health', params: {} });
  });

  it('does not match a method the path does not serve', () => {
    expect(matchRoute(compiled, 'POST', '/sites/site-1/settings')).toBeNull();
  });

  it('does not match a path with an extra segment', () => {
    expect(matchRoute(compiled, 'GET', '/sites/site-1/settings/extra')).toBeNull();
  });

  it('does not match a path with a trailing slash', () => {
    expect(matchRoute(compiled, 'GET', '/health/')).toBeNull();
  });

  it('does not let a parameter match an empty segment', () => {
    expect(matchRoute(compiled, 'GET', '/sites//settings')).toBeNull();
  });

  it('does not let a parameter span two segments', () => {
    expect(matchRoute(compiled, 'GET', '/sites/a/b/purchases/p-1')).toBeNull();
  });

  it('compiles one matcher per declared route', () => {
    expect(compiled.map((route) => route.key)).toEqual(ROUTES.map((route) => `${route.method} ${route.path}`));
  });
});
