import type * as z from 'zod';
import { type FieldProblem, InvalidInputError } from '../domain/errors.ts';
import { ID_RULE, isId, PROCESSOR_ID_RULE, processorId } from '../domain/ids.ts';

/**
 * What the webhook translators share: reading a verified payload with a zod schema, and the rule for ids a
 * site writes into a processor's free-form fields.
 *
 * A signed payload is authentic, not necessarily usable. Two outcomes, chosen by who wrote the bad value:
 * - the processor's own fields (ids, timestamps, amounts) out of shape → InvalidInputError (400) naming the
 *   field: no genuine delivery looks like that, and nothing is written;
 * - a site's metadata that breaks membergate's id rule → the event is ignored with the reason (200): the
 *   delivery is genuine, redelivering it cannot make it usable, and answering 400 would only have the
 *   processor retry it for days.
 */

/** `['data', 'object', 'items', 'data', 0, 'id']` → `data.object.items.data[0].id`; the empty path is `body`. */
export function fieldName(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'body';
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`))
    .join('');
}

/**
 * Parses the part of a payload found at `at` (its path from the body's root, for the field names) or throws a
 * 400 whose details name every offending field.
 */
export function readPayload<S extends z.ZodType>(
  processor: string,
  schema: S,
  value: unknown,
  at: readonly PropertyKey[] = [],
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  // One problem per field: a value can break several checks at once (1e300 is neither whole nor in range),
  // and the first says enough.
  const details: FieldProblem[] = [];
  for (const issue of result.error.issues) {
    const field = fieldName([...at, ...issue.path]);
    if (!details.some((problem) => problem.field === field)) details.push({ field, message: issue.message });
  }
  throw new InvalidInputError(
    `${processor} webhook payload is not usable: ${details.map((d) => `${d.field} ${d.message}`).join('; ')}`,
    details,
  );
}

/** A value read from a site's metadata: absent, a usable id, or why it is unusable (for IgnoredEvent.reason). */
export type MetadataValue = { ok: true; value: string | null } | { ok: false; reason: string };

/**
 * A membergate id (site, offer, customer) read from processor metadata. Absent or empty is no value (Stripe
 * deletes a metadata key by setting it to ''); anything else must follow the API's id rule.
 */
export function metadataId(value: unknown, field: string): MetadataValue {
  if (value === undefined || value === null || value === '') return { ok: true, value: null };
  if (isId(value)) return { ok: true, value };
  return { ok: false, reason: `${field} is not a membergate id: it ${ID_RULE}` };
}

/** A processor id (a subscription id) that a site wrote into metadata: bounded like the processor's own ids. */
export function metadataProcessorId(value: unknown, field: string): MetadataValue {
  if (value === undefined || value === null || value === '') return { ok: true, value: null };
  const parsed = processorId.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, reason: `${field} is not a processor id: it ${PROCESSOR_ID_RULE}` };
}
