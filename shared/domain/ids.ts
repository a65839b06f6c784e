import { createHash } from 'node:crypto';
import * as z from 'zod';

/**
 * The id rule for everything membergate names (sites, products, offers, customers, purchases): ids become
 * parts of DynamoDB keys (`SITE#<siteId>#…`), so they are restricted to characters that cannot forge a key
 * separator, and short enough that a key stays far below DynamoDB's limits. One rule for every door an id
 * comes in by: the HTTP API (shared/http/schemas.ts) and the processor webhooks (Stripe metadata, PayPal
 * custom_id), so a webhook can never create a record the API cannot read.
 */
export const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export const ID_RULE = 'must be 1–128 letters, digits, or . _ : -';

export const id = z.string().regex(ID_PATTERN, ID_RULE);

export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

/**
 * Ids a payment processor assigns (event, subscription, invoice, charge, sale and refund ids). They are not
 * ours to restrict to membergate's alphabet, but they become key parts (`PROCESSOR#stripe#EVENT#<id>`), so
 * they are bounded: 1–255 characters (Stripe documents 255 as its id limit; PayPal's are shorter), no control
 * characters. 255 characters of UTF-8 stay far below DynamoDB's 2 048-byte partition-key limit.
 */
export const PROCESSOR_ID_MAX = 255;
export const PROCESSOR_ID_RULE = `must be 1–${PROCESSOR_ID_MAX} characters without control characters`;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
const PROCESSOR_ID_PATTERN = /^[^\u0000-\u001f\u007f-\u009f]+$/;

export const processorId = z
  .string()
  .min(1, PROCESSOR_ID_RULE)
  .max(PROCESSOR_ID_MAX, PROCESSOR_ID_RULE)
  .regex(PROCESSOR_ID_PATTERN, PROCESSOR_ID_RULE);

/**
 * The purchase id of a processor subscription: derived from the subscription, so that a webhook naming its
 * site (Stripe metadata, PayPal custom_id) reads the purchase with one GetItem and no link lookup first.
 * Stripe and native share Stripe's id space (subscription ids are unique across accounts); PayPal has its
 * own. Purchases linked before this rule have random ids: they are still found through the processor link.
 */
export function linkedPurchaseId(processor: 'stripe' | 'native' | 'paypal', subscriptionId: string): string {
  const family = processor === 'paypal' ? 'paypal' : 'stripe';
  const digest = createHash('sha256').update(`${family}:${subscriptionId}`).digest('hex').slice(0, 26);
  return `pur_${family === 'paypal' ? 'pp' : 'st'}${digest}`;
}
