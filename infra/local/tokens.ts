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
    try {
      const { payload } = await jwtVerify(token, this.publicKey, {
        issuer: LOCAL_ISSUER,
        audience: LOCAL_AUDIENCE,
        algorithms: ['ES256'],
        currentDate: now,
      });
      return payload;
    } catch {
      return null;
    }
  }

  async jwks() {
    return { keys: [{ ...(await exportJWK(this.publicKey)), kid: 'local', alg: 'ES256', use: 'sig' }] };
  }
}
