import { readFileSync } from 'node:fs';

/**
 * Processor credentials and webhook secrets. Locally they come from environment variables (documented in
 * the README, with defaults that point at the local processor sandbox); on AWS the stack stores them in
 * one Secrets Manager secret whose JSON uses the same names, read once per execution environment, by its
 * first invocation (shared/wiring.ts).
 */
export interface ProcessorSettings {
  stripe: { secretKey: string; apiBase: string | undefined } | null;
  /** The platform's own Stripe account, for processor `native`. */
  native: { secretKey: string; apiBase: string | undefined } | null;
  stripeWebhookSecret: string | null;
  paypal: { clientId: string; clientSecret: string; apiBase: string; environment: 'live' | 'sandbox' } | null;
  paypalWebhookId: string | null;
  /** PEM used instead of downloading `PAYPAL-CERT-URL` (local runs and tests). */
  paypalWebhookCert: string | null;
}

type Source = Record<string, string | undefined>;

export const PAYPAL_LIVE_API = 'https://api-m.paypal.com';

/** Builds settings from a flat source of the documented variable names. */
export function processorSettingsFrom(source: Source): ProcessorSettings {
  const get = (name: string) => {
    const value = source[name]?.trim();
    return value ? value : undefined;
  };
  const stripeKey = get('STRIPE_SECRET_KEY');
  const nativeKey = get('NATIVE_STRIPE_SECRET_KEY');
  const stripeBase = get('STRIPE_API_BASE');
  const paypalId = get('PAYPAL_CLIENT_ID');
  const paypalSecret = get('PAYPAL_CLIENT_SECRET');
  const paypalBase = get('PAYPAL_API_BASE') ?? PAYPAL_LIVE_API;
  const certPath = get('PAYPAL_WEBHOOK_CERT');
  return {
    stripe: stripeKey ? { secretKey: stripeKey, apiBase: stripeBase } : null,
    native: nativeKey ? { secretKey: nativeKey, apiBase: stripeBase } : null,
    stripeWebhookSecret: get('STRIPE_WEBHOOK_SECRET') ?? null,
    paypal:
      paypalId && paypalSecret
        ? {
            clientId: paypalId,
            clientSecret: paypalSecret,
            apiBase: paypalBase,
            environment: paypalBase.includes('sandbox') ? 'sandbox' : 'live',
          }
        : null,
    paypalWebhookId: get('PAYPAL_WEBHOOK_ID') ?? null,
    // A path to a PEM file, or the PEM itself (a secret can only hold text).
    paypalWebhookCert: certPath
      ? certPath.includes('BEGIN CERTIFICATE')
        ? certPath
        : readFileSync(certPath, 'utf8')
      : null,
  };
}

/**
 * On AWS: environment merged with the JSON of PROCESSOR_SECRET_ARN (Secrets Manager). The SDK client is
 * loaded only when a secret is configured; only functions that read the secret bundle it (their handler
 * names this module in its `processorSecret` loader).
 */
export async function loadProcessorSettings(): Promise<ProcessorSettings> {
  const secretArn = process.env.PROCESSOR_SECRET_ARN;
  if (!secretArn) return processorSettingsFrom(process.env);
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({});
  const result = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
  const secret = JSON.parse(result.SecretString ?? '{}') as Record<string, unknown>;
  const fromSecret = Object.fromEntries(
    Object.entries(secret).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
  return processorSettingsFrom({ ...process.env, ...fromSecret });
}
