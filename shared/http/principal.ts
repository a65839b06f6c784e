import { ForbiddenError, UnauthorizedError } from '../domain/errors.ts';
import type { Actor, Role } from '../domain/types.ts';
import type { RouteAccess } from './routes.ts';

/**
 * Claim names as Cognito puts them in an ID token (custom attributes are prefixed `custom:`). Local tokens
 * from `POST /local/tokens` carry the same names, so this module is the same on AWS and locally.
 */
export const CLAIMS = {
  role: 'custom:role',
  siteId: 'custom:siteId',
  customerId: 'custom:customerId',
  email: 'email',
  subject: 'sub',
} as const;

export const ROLES: readonly Role[] = ['admin', 'support', 'automation', 'customer'];
const STAFF_ROLES: readonly Role[] = ['admin', 'support', 'automation'];

export interface Principal {
  role: Role;
  subject: string;
  siteId: string | null;
  email: string | null;
  customerId: string | null;
}

type Claims = Record<string, string | number | boolean | string[] | undefined>;

function claim(claims: Claims, name: string): string | null {
  const value = claims[name];
  return typeof value === 'string' && value.length > 0 ? value : null;
}

export function principalFromClaims(claims: Claims | undefined): Principal {
  if (!claims) throw new UnauthorizedError('a bearer token is required');
  const role = claim(claims, CLAIMS.role);
  if (!role || !(ROLES as readonly string[]).includes(role)) {
    throw new UnauthorizedError('the token carries no membergate role');
  }
  return {
    role: role as Role,
    subject: claim(claims, CLAIMS.subject) ?? 'unknown',
    siteId: claim(claims, CLAIMS.siteId),
    email: claim(claims, CLAIMS.email),
    customerId: claim(claims, CLAIMS.customerId),
  };
}

/**
 * Tenancy and roles, decided before anything is read: staff tokens work only on their own site's paths,
 * customer tokens only on `/me` routes.
 */
export function authorize(principal: Principal, access: RouteAccess, pathSiteId: string | undefined): void {
  // Webhooks are authenticated by the processor's signature, not by a token.
  if (access === 'public' || access === 'webhook') return;
  if (access === 'staff') {
    if (!STAFF_ROLES.includes(principal.role))
      throw new ForbiddenError(`a ${principal.role} token cannot use staff routes`);
    if (!principal.siteId) throw new ForbiddenError('the token is not bound to a site');
    if (pathSiteId !== principal.siteId) throw new ForbiddenError('the token does not belong to this site');
    return;
  }
  // access === 'customer'
  if (principal.role !== 'customer') throw new ForbiddenError('only customer tokens can use /me routes');
  if (!principal.siteId || !principal.customerId)
    throw new ForbiddenError('the customer token lacks siteId or customerId');
}

export function actorOf(principal: Principal): Actor {
  switch (principal.role) {
    case 'admin':
      if (!principal.email) throw new ForbiddenError('an admin token must carry an email');
      return { type: 'admin', email: principal.email };
    case 'support':
      return { type: 'support', email: principal.email };
    case 'automation':
      return { type: 'automation', id: principal.subject };
    case 'customer':
      return { type: 'customer', customerId: principal.customerId ?? principal.subject };
  }
}
