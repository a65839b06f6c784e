import { randomBytes } from 'node:crypto';
import { systemResolver } from '#shared/adapters/webhook-sender.ts';
import { productionHandler } from '#shared/wiring.ts';
import { createWebhookEndpointsHandler } from './app.ts';

// On AWS the SSRF guard never accepts plain http, not even to localhost (`allowLocalHttp: false`).
export const handler = productionHandler('webhook-endpoints', {}, ({ deps, webhooks }) =>
  createWebhookEndpointsHandler({
    webhooks,
    clock: deps.clock,
    resolveHost: systemResolver,
    allowLocalHttp: false,
    randomBytes,
  }),
);
