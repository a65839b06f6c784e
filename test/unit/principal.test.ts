import { describe, expect, it } from '@jest/globals';
import { ForbiddenError, UnauthorizedError } from '../../shared/domain/errors.ts';
import { actorOf, authorize, type Principal, principalFromClaims } from '../../shared/http/principal.ts';
import { thrownBy } from './fixtures.ts';

function principal(overrides: Partial<Principal> = {}): Principal {
  return {
    role: 'admin',
    subject: 'user-1',
    siteId: 'site-1',
    email: 'owner@example.com',
    customerId: null,
    ...overrides,
  };
}

const customerPrincipal = principal({ role: 'customer', email: null, customerId: 'customer-1' });

describe('principalFromClaims', () => {
  it('reads role, site, email, customer and subject from Cognito-style claim names', () => {
    const claims = {
      'custom:role': 'customer',
      'custom:siteId': 'site-1',
      'custom:customerId': 'customer-1',
      email: 'jo@example.com',
      sub: 'abc-123',
    };

    expect(principalFromClaims(claims)).toEqual({
      role: 'customer',
      subject: 'abc-123',
      siteId: 'site-1',
      email: 'jo@example.com',
      customerId: 'customer-1',
    });
  });

  it('treats missing optional claims as null and a missing subject as unknown', () => {
    expect(principalFromClaims({ 'custom:role': 'support' })).toEqual({
      role: 'support',
      subject: 'unknown',
      siteId: null,
      email: null,
      customerId: null,
    });
  });

  it('refuses a request without claims as unauthorized', () => {
    expect(() => principalFromClaims(undefined)).toThrow(UnauthorizedError);
  });

  it('refuses claims without a role as unauthorized', () => {
    expect(() => principalFromClaims({ 'custom:siteId': 'site-1', sub: 'abc' })).toThrow(UnauthorizedError);
  });

  it('refuses an unknown role as unauthorized', () => {
    expect(() => principalFromClaims({ 'custom:role': 'owner', 'custom:siteId': 'site-1' })).toThrow(UnauthorizedError);
  });

  it('refuses an empty role as unauthorized', () => {
    expect(() => principalFromClaims({ 'custom:role': '' })).toThrow(UnauthorizedError);
  });
});

describe('authorize', () => {
  it.each(['admin', 'support', 'automation'] as const)('lets a %s token use staff routes of its own site', (role) => {
    expect(() => authorize(principal({ role }), 'staff', 'site-1')).not.toThrow();
  });

  it("forbids a staff token on another site's paths", () => {
    expect(() => authorize(principal(), 'staff', 'site-2')).toThrow(ForbiddenError);
  });

  it('forbids a staff token that is not bound to a site', () => {
    expect(() => authorize(principal({ siteId: null }), 'staff', 'site-1')).toThrow(ForbiddenError);
  });

  it('forbids a staff token on a staff route without a site in the path', () => {
    expect(() => authorize(principal(), 'staff', undefined)).toThrow(ForbiddenError);
  });

  it('forbids a customer token on staff routes, even of its own site', () => {
    expect(() => authorize(customerPrincipal, 'staff', 'site-1')).toThrow(ForbiddenError);
  });

  it('lets a customer token with site and customer id use /me routes', () => {
    expect(() => authorize(customerPrincipal, 'customer', undefined)).not.toThrow();
  });

  it('forbids a staff token on /me routes', () => {
    expect(() => authorize(principal(), 'customer', undefined)).toThrow(ForbiddenError);
  });

  it('forbids a customer token without a customer id on /me routes', () => {
    expect(() => authorize({ ...customerPrincipal, customerId: null }, 'customer', undefined)).toThrow(ForbiddenError);
  });

  it('lets anyone use public routes', () => {
    const nobody = principal({ role: 'customer', siteId: null, email: null, customerId: null });

    expect(() => authorize(nobody, 'public', undefined)).not.toThrow();
  });
});

describe('actorOf', () => {
  it('makes an admin actor carrying the email the label shows', () => {
    expect(actorOf(principal({ role: 'admin', email: 'owner@example.com' }))).toEqual({
      type: 'admin',
      email: 'owner@example.com',
    });
  });

  it('forbids an admin token without an email', () => {
    const error = thrownBy(() => actorOf(principal({ role: 'admin', email: null })));

    expect(error).toBeInstanceOf(ForbiddenError);
  });

  it('makes a support actor with its email, possibly null', () => {
    expect(actorOf(principal({ role: 'support', email: null }))).toEqual({ type: 'support', email: null });
  });

  it('makes an automation actor identified by the token subject', () => {
    expect(actorOf(principal({ role: 'automation', subject: 'zap-7' }))).toEqual({ type: 'automation', id: 'zap-7' });
  });

  it('makes a customer actor identified by the customer id', () => {
    expect(actorOf(customerPrincipal)).toEqual({ type: 'customer', customerId: 'customer-1' });
  });

  it('falls back to the subject for a customer actor without a customer id', () => {
    expect(actorOf({ ...customerPrincipal, customerId: null, subject: 'sub-9' })).toEqual({
      type: 'customer',
      customerId: 'sub-9',
    });
  });
});
