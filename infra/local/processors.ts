import Stripe from 'stripe';
import { payPalCancelRedirectUrl } from '../../shared/adapters/paypal.ts';
import { createPayPalTranslator } from '../../shared/adapters/paypal-webhook.ts';
import { createStripeTranslator } from '../../shared/adapters/stripe-webhook.ts';
import type { WebhookTranslator } from '../../shared/ports/webhooks.ts';
import { type ProcessorSettings, processorSettingsFrom } from '../../shared/processor-settings.ts';
import { generatePayPalSigningMaterial, payPalWebhookHeaders, startPayPalSandbox } from './paypal-sandbox.ts';
import { startStripeSandbox } from './stripe-sandbox.ts';

/** Documented local defaults (README, Configuration). */
export const LOCAL_STRIPE_WEBHOOK_SECRET = 'whsec_membergate_local';
export const LOCAL_PAYPAL_WEBHOOK_ID = 'WH-MEMBERGATE-LOCAL';

export interface LocalProcessors {
  settings: ProcessorSettings;
  stripeWebhooks: WebhookTranslator;
  payPalWebhooks: WebhookTranslator;
  payPalRedirect: (subscriptionId: string) => string;
  /** Signs a Stripe event body as Stripe would, with the configured webhook secret. */
  signStripe(rawBody: string): Record<string, string>;
  /** Signs a PayPal event body with the local key whose certificate the translator trusts (null with a real PayPal cert). */
  signPayPal: ((rawBody: string) => Record<string, string>) | null;
  /**
   * Tells the local Stripe sandbox about the subscription an event reports (before it is delivered), so the
   * sandbox bills what the subscription says, as Stripe would. Nothing when real Stripe credentials are set.
   */
  observeStripeEvent(rawBody: string): void;
  /** Where outbound processor calls go locally: the sandboxes' URLs, or null when real credentials are set. */
  sandboxes: { stripe: string | null; paypal: string | null };
  stop(): Promise<void>;
}

/**
 * Processors for `npm start` and the tests: with no credentials in the environment, outbound calls go to
 * local sandboxes that speak Stripe's and PayPal's protocols, so everything works offline; with real
 * credentials (e.g. a Stripe test key) they go to the processor. Webhooks are verified exactly as on AWS,
 * with a local secret and a locally generated PayPal certificate unless configured otherwise.
 */
export async function startLocalProcessors(
  env: Record<string, string | undefined> = process.env,
): Promise<LocalProcessors> {
  const configured = processorSettingsFrom(env);
  const stripeSandbox = configured.stripe ? null : await startStripeSandbox();
  const payPalSandbox = configured.paypal ? null : await startPayPalSandbox();
  const signing = configured.paypalWebhookCert ? null : generatePayPalSigningMaterial();
  const settings: ProcessorSettings = {
    ...configured,
    stripe: configured.stripe ?? { secretKey: 'sk_test_membergate_local', apiBase: stripeSandbox!.url },
    native: configured.native ?? {
      secretKey: 'sk_test_membergate_platform',
      apiBase: configured.stripe?.apiBase ?? stripeSandbox?.url,
    },
    stripeWebhookSecret: configured.stripeWebhookSecret ?? LOCAL_STRIPE_WEBHOOK_SECRET,
    paypal: configured.paypal ?? {
      clientId: payPalSandbox!.clientId,
      clientSecret: payPalSandbox!.clientSecret,
      apiBase: payPalSandbox!.url,
      environment: 'sandbox',
    },
    paypalWebhookId: configured.paypalWebhookId ?? LOCAL_PAYPAL_WEBHOOK_ID,
    paypalWebhookCert: configured.paypalWebhookCert ?? signing!.certificatePem,
  };
  const webhookId = settings.paypalWebhookId!;
  return {
    settings,
    stripeWebhooks: createStripeTranslator({ webhookSecret: settings.stripeWebhookSecret! }),
    payPalWebhooks: createPayPalTranslator({ webhookId, certificatePem: settings.paypalWebhookCert! }),
    payPalRedirect: (subscriptionId) => payPalCancelRedirectUrl(subscriptionId, settings.paypal!.environment),
    signStripe: (rawBody) => ({
      'stripe-signature': Stripe.webhooks.generateTestHeaderString({
        payload: rawBody,
        secret: settings.stripeWebhookSecret!,
      }),
    }),
    signPayPal: signing
      ? (rawBody) => payPalWebhookHeaders({ privateKeyPem: signing.privateKeyPem, webhookId, rawBody })
      : null,
    observeStripeEvent: (rawBody) => {
      if (!stripeSandbox) return;
      try {
        const event = JSON.parse(rawBody) as { account?: unknown; data?: { object?: unknown } } | null;
        // A Connect event (`account`) describes a subscription of that connected account.
        stripeSandbox.observe(event?.data?.object, typeof event?.account === 'string' ? event.account : null);
      } catch {
        // Not JSON: the webhook route itself answers that; the sandbox learns nothing.
      }
    },
    sandboxes: { stripe: stripeSandbox?.url ?? null, paypal: payPalSandbox?.url ?? null },
    stop: async () => {
      await Promise.all([stripeSandbox?.stop(), payPalSandbox?.stop()]);
    },
  };
}
