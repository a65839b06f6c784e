import { CustomerNotFoundError, InvalidInputError, SiteResourceNotFoundError } from '../domain/errors.ts';
import { toInstant } from '../domain/time.ts';
import type { Customer, Offer, Price, Product, SiteSettings } from '../domain/types.ts';
import type { Dependencies } from './deps.ts';
import { purchaseView } from './views.ts';

type Deps = Pick<Dependencies, 'catalog' | 'purchases'>;

export function getSettings(deps: Deps, siteId: string): Promise<SiteSettings> {
  return deps.catalog.getSettings(siteId);
}

/** Fields left out keep their current value: only the given fields are written, so concurrent PUTs all land. */
export function updateSettings(
  deps: Deps,
  siteId: string,
  input: Partial<Omit<SiteSettings, 'siteId'>>,
): Promise<SiteSettings> {
  return deps.catalog.updateSettings(siteId, input);
}

/** Upsert. Re-putting an archived product brings it back. */
export function upsertProduct(
  deps: Deps,
  siteId: string,
  productId: string,
  input: { name: string; description?: string | null | undefined },
  now: Date,
): Promise<Product> {
  return deps.catalog.upsertProduct({
    siteId,
    productId,
    name: input.name,
    description: input.description ?? null,
    updatedAt: toInstant(now),
  });
}

/** Rule 11: archiving only hides the product from new offers; existing grants are untouched. Archived once. */
export async function archiveProduct(deps: Deps, siteId: string, productId: string, now: Date): Promise<Product> {
  const archived = await deps.catalog.archiveProduct(siteId, productId, toInstant(now));
  if (!archived) throw new SiteResourceNotFoundError(`product ${productId} not found`);
  return archived;
}

export interface OfferInput {
  name: string;
  productIds: string[];
  price: Price;
  accessDays?: number | null | undefined;
}

/** Upsert. Every product must exist and be live; existing purchases keep the products they were sold. */
export async function upsertOffer(
  deps: Deps,
  siteId: string,
  offerId: string,
  input: OfferInput,
  now: Date,
): Promise<Offer> {
  const productIds = [...new Set(input.productIds)];
  const products = await deps.catalog.getProducts(siteId, productIds);
  const problems = input.productIds.flatMap((productId, index) => {
    const product = products.get(productId);
    if (!product) return [{ field: `productIds[${index}]`, message: `product ${productId} does not exist` }];
    if (product.archivedAt) return [{ field: `productIds[${index}]`, message: `product ${productId} is archived` }];
    return [];
  });
  if (problems.length > 0) throw new InvalidInputError(problems.map((p) => p.message).join('; '), problems);
  return deps.catalog.upsertOffer({
    siteId,
    offerId,
    name: input.name,
    productIds,
    price: input.price,
    accessDays: input.accessDays ?? null,
    updatedAt: toInstant(now),
  });
}

/** Rule 11: archiving an offer stops new sales only; it never revokes access nor cancels billing. Archived once. */
export async function archiveOffer(deps: Deps, siteId: string, offerId: string, now: Date): Promise<Offer> {
  const archived = await deps.catalog.archiveOffer(siteId, offerId, toInstant(now));
  if (!archived) throw new SiteResourceNotFoundError(`offer ${offerId} not found`);
  return archived;
}

export async function upsertCustomer(
  deps: Deps,
  siteId: string,
  customerId: string,
  input: { email: string; name?: string | null | undefined },
  now: Date,
): Promise<Customer> {
  return deps.catalog.upsertCustomer({
    siteId,
    customerId,
    email: input.email,
    name: input.name ?? null,
    updatedAt: toInstant(now),
  });
}

export async function getCustomer(deps: Deps, siteId: string, customerId: string) {
  const { customer, purchases } = await deps.purchases.getCustomerWithPurchases(siteId, customerId);
  if (!customer) throw new CustomerNotFoundError(customerId);
  return { ...customer, purchases: purchases.map(purchaseView) };
}
