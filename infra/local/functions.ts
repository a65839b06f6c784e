import { createAccessHandler } from '../../functions/access/app.ts';
import { createBillingHandler } from '../../functions/billing/app.ts';
import { createBulkRevocationsHandler } from '../../functions/bulk-revocations/app.ts';
import { createCatalogHandler } from '../../functions/catalog/app.ts';
import { createMeHandler } from '../../functions/me/app.ts';
import { createPurchasesHandler } from '../../functions/purchases/app.ts';
import { createReconciliationsHandler } from '../../functions/reconciliations/app.ts';
import { createWebhookEndpointsHandler } from '../../functions/webhook-endpoints/app.ts';
import { createPayPalWebhookHandler } from '../../functions/webhook-paypal/app.ts';
import { createStripeWebhookHandler } from '../../functions/webhook-stripe/app.ts';
import type { ApiFunctionName } from '../../shared/http/routes.ts';
import type { WebhookTranslator } from '../../shared/ports/webhooks.ts';
import type { BulkDeps } from '../../shared/usecases/bulk-revocations.ts';
import type { Dependencies } from '../../shared/usecases/deps.ts';
import type { ReconciliationDeps } from '../../shared/usecases/reconciliations.ts';
import type { WebhookEndpointDeps } from '../../shared/usecases/webhook-endpoints.ts';
import type { LambdaHandler } from './gateway.ts';

/** What the local runtime wires into the handlers, as the Lambda entry points do from the environment. */
export interface LocalWiring {
  deps: Dependencies;
  stripeWebhooks: WebhookTranslator;
  payPalWebhooks: WebhookTranslator;
  payPalRedirect: (subscriptionId: string) => string;
  /** Integrator webhook endpoints: the store, the SSRF guard (http://localhost allowed locally), the secret source. */
  webhookEndpoints: WebhookEndpointDeps;
  /** Bulk revocation jobs: the job store and the local job queue (infra/local/bulk-jobs.ts). */
  bulk: BulkDeps;
  /** Reconciliations: their store and the local page queue (infra/local/reconciliations.ts). */
  reconciliations: ReconciliationDeps;
}

/**
 * The same handler factories the Lambda entry points call, wired with local adapters. A `Record` over
 * every API function name: adding a function to the route list without serving it here fails to compile.
 */
export const LOCAL_API_FUNCTIONS: Record<ApiFunctionName, (wiring: LocalWiring) => LambdaHandler> = {
  catalog: ({ deps }) => createCatalogHandler(deps),
  purchases: ({ deps }) => createPurchasesHandler(deps),
  access: ({ deps }) => createAccessHandler(deps),
  billing: ({ deps }) => createBillingHandler(deps),
  me: ({ deps, payPalRedirect }) => createMeHandler(deps, { payPalRedirect }),
  'webhook-stripe': ({ deps, stripeWebhooks }) => createStripeWebhookHandler(deps, stripeWebhooks),
  'webhook-paypal': ({ deps, payPalWebhooks }) => createPayPalWebhookHandler(deps, payPalWebhooks),
  'webhook-endpoints': ({ webhookEndpoints }) => createWebhookEndpointsHandler(webhookEndpoints),
  'bulk-revocations': ({ bulk }) => createBulkRevocationsHandler(bulk),
  reconciliations: ({ reconciliations }) => createReconciliationsHandler(reconciliations),
};
