import { beforeAll, describe, expect, it } from '@jest/globals';
import { LOCAL_AUDIENCE, LOCAL_ISSUER, LocalTokenIssuer, tokenRequest } from '../../infra/local/tokens.ts';
import { InvalidInputError } from '../../shared/domain/errors.ts';
import { parseInput } from '../../shared/http/validation.ts';
import { msAfter, NOW, thrownBy } from './fixtures.ts';

function fieldsRejected(value: unknown): string[] {
  const error = thrownBy(() => parseInput(tokenRequest, value));
  if (!(error instanceof InvalidInputError)) throw new Error(`expected an InvalidInputError, got ${String(error)}`);
  return error.details.map((problem) => problem.field);
}

describe('LocalTokenIssuer', () => {
  let issuer: LocalTokenIssuer;
  beforeAll(async () => {
    issuer = await LocalTokenIssuer.create();
  });

  const adminRequest = parseInput(tokenRequest, { role: 'admin', siteId: 'site-1', email: 'owner@example.com' });

  it('verifies a token it minted and returns its claims under the Cognito names', async () => {
    const token = await issuer.mint(adminRequest, NOW);

    const claims = await issuer.verify(token, NOW);

    expect(claims).toMatchObject({
      'custom:role': 'admin',
      'custom:siteId': 'site-1',
      email: 'owner@example.com',
      iss: LOCAL_ISSUER,
      aud: LOCAL_AUDIENCE,
    });
  });

  it('puts the customer id of a customer token in custom:customerId', async () => {
    const request = parseInput(tokenRequest, { role: 'customer', siteId: 'site-1', customerId: 'customer-1' });

    const claims = await issuer.verify(await issuer.mint(request, NOW), NOW);

    expect(claims?.['custom:customerId']).toBe('customer-1');
  });

  it('still accepts a token one second before it expires', async () => {
    const token = await issuer.mint({ ...adminRequest, expiresInSeconds: 60 }, NOW);

    expect(await issuer.verify(token, msAfter(NOW, 59_000))).not.toBeNull();
  });

  it('refuses a token once it has expired', async () => {
    const token = await issuer.mint({ ...adminRequest, expiresInSeconds: 60 }, NOW);

    expect(await issuer.verify(token, msAfter(NOW, 60_000))).toBeNull();
  });

  it('refuses a token once it has expired even after accepting it before (a remembered token is re-timed)', async () => {
    const token = await issuer.mint({ ...adminRequest, expiresInSeconds: 60 }, NOW);

    expect(await issuer.verify(token, msAfter(NOW, 1_000))).not.toBeNull();
    expect(await issuer.verify(token, msAfter(NOW, 59_000))).not.toBeNull();
    expect(await issuer.verify(token, msAfter(NOW, 60_000))).toBeNull();
  });

  it('refuses a token minted by another issuer instance', async () => {
    const other = await LocalTokenIssuer.create();
    const token = await other.mint(adminRequest, NOW);

    expect(await issuer.verify(token, NOW)).toBeNull();
  });

  it('refuses a token whose payload was altered', async () => {
    const [header, , signature] = (await issuer.mint(adminRequest, NOW)).split('.');
    const forged = Buffer.from(JSON.stringify({ 'custom:role': 'admin', 'custom:siteId': 'site-2' })).toString(
      'base64url',
    );

    expect(await issuer.verify(`${header}.${forged}.${signature}`, NOW)).toBeNull();
  });

  it('refuses something that is not a token', async () => {
    expect(await issuer.verify('not-a-jwt', NOW)).toBeNull();
  });
});

describe('tokenRequest', () => {
  it('refuses an admin without an email, naming email', () => {
    expect(fieldsRejected({ role: 'admin', siteId: 'site-1' })).toEqual(['email']);
  });

  it('refuses a customer without a customer id, naming customerId', () => {
    expect(fieldsRejected({ role: 'customer', siteId: 'site-1' })).toEqual(['customerId']);
  });

  it('refuses a token request without a site, naming siteId', () => {
    expect(fieldsRejected({ role: 'support' })).toEqual(['siteId']);
  });

  it('refuses an unknown role, naming role', () => {
    expect(fieldsRejected({ role: 'owner', siteId: 'site-1' })).toEqual(['role']);
  });

  it('lets a token last 12 hours unless told otherwise', () => {
    expect(parseInput(tokenRequest, { role: 'automation', siteId: 'site-1' }).expiresInSeconds).toBe(43_200);
  });
});
