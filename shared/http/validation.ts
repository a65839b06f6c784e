import type { z } from 'zod';
import { InvalidInputError } from '../domain/errors.ts';

/** `['productIds', 1]` → `productIds[1]`; the root is called after where the value came from. */
function fieldName(path: readonly PropertyKey[], root: string): string {
  if (path.length === 0) return root;
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`))
    .join('');
}

/** Parses `value` or throws a 400 whose details name every offending field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, root = 'body'): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({
    field: fieldName(issue.path, root),
    message: issue.message,
  }));
  throw new InvalidInputError(details.map((d) => `${d.field}: ${d.message}`).join('; '), details);
}
