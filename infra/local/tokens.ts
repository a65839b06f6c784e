import { type CryptoKey, exportJWK, generateKeyPair, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import * as z from 'zod';
import { CLAIMS } from '../../shared/http/principal.ts';
import { id } from '../../shared/http/schemas.ts';

export const LOCAL_ISSUER = 'membergate-local';
export const LOCAL_AUDIENCE = 'membergate';

/** The body of `POST /local/tokens`: what a Cognito user of that role would carry. */
export const tokenRequest = z
  .object({
    role: z.enum(['admin', 'support', 'automation', 'customer']),
    siteId: id.optional(),
    email: z.email().optional(),
    customerId: id.optional(),
    subject: id.optional(),
    expiresInSeconds: z
      .number()
      .int()
      .min(1)
      .max(86_400 * 30)
      .default(43_200),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (!value.siteId) ctx.addIssue({ code: 'custom', path: ['siteId'], message: `required for role ${value.role}` });
    if (value.role === 'admin' && !value.email) {
      ctx.addIssue({ code: 'custom', path: ['email'], message: 'required for role admin (labels show it)' });
    }
    if (value.role === 'customer' && !value.customerId) {
      ctx.addIssue({ code: 'custom', path: ['customerId'], message: 'required for role customer' });
    }
  });

/** How many verified tokens the local authorizer remembers (oldest forgotten first). */
const VERIFIED_TOKENS_KEPT = 1_000;

/** `exp` / `nbf` as jose checks them (jose allows no clock tolerance here either). */
function withinLifetime(payload: JWTPayload, now: Date): boolean {
  const seconds = Math.floor(now.getTime() / 1000);
  return (payload.exp === undefined || seconds < payload.exp) && (payload.nbf === undefined || seconds >= payload.nbf);
}

/**
 * Stands in for Cognito plus the HTTP API's JWT authorizer: a key pair made at start-up signs tokens
 * (ES256) and verifies them the way the authorizer does (signature, issuer, audience, expiry).
 */
export class LocalTokenIssuer {
  private constructor(
    private readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
  ) {}

  static async create(): Promise<LocalTokenIssuer> {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    return new LocalTokenIssuer(privateKey, publicKey);
  }

  async mint(request: z.output<typeof tokenRequest>, now: Date): Promise<string> {
    const claims: JWTPayload = {
      [CLAIMS.role]: request.role,
      ...(request.siteId ? { [CLAIMS.siteId]: request.siteId } : {}),
      ...(request.customerId ? { [CLAIMS.customerId]: request.customerId } : {}),
      ...(request.email ? { [CLAIMS.email]: request.email } : {}),
      token_use: 'id',
    };
    const subject = request.subject ?? `${request.role}-${request.customerId ?? request.email ?? 'local'}`;
    const issuedAt = Math.floor(now.getTime() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'local' })
      .setIssuer(LOCAL_ISSUER)
      .setAudience(LOCAL_AUDIENCE)
      .setSubject(subject)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + request.expiresInSeconds)
      .sign(this.privateKey);
  }

  /** The claims of a valid token, or null (the authorizer's 401). */
  async verify(token: string, now: Date): Promise<JWTPayload | null> {
    // A token's signature, issuer and audience never change, so a verified one is remembered (as API Gateway's
    // authorizer caches its JWKS work); its time claims are checked again on every call.
    const known = this.verified.get(token);
    if (known) return withinLifetime(known, now) ? known : null;
    try {
      const { payload } = await jwtVerify(token, this.publicKey, {
        issuer: LOCAL_ISSUER,
        audience: LOCAL_AUDIENCE,
        algorithms: ['ES256'],
        currentDate: now,
      });
      if (this.verified.size >= VERIFIED_TOKENS_KEPT) this.verified.delete(this.verified.keys().next().value ?? '');
      this.verified.set(token, payload);
      return payload;
    } catch {
      return null;
    }
  }

  private readonly verified = new Map<string, JWTPayload>();

  async jwks() {
    return { keys: [{ ...(await exportJWK(this.publicKey)), kid: 'local', alg: 'ES256', use: 'sig' }] };
  }
}
