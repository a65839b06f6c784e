import { CustomerNotFoundError, InvalidInputError, SiteResourceNotFoundError } from '../domain/errors.ts';
import { toInstant } from '../domain/time.ts';
import type { Customer, Offer, Price, Product, SiteSettings } from '../domain/types.ts';
import type { Dependencies } from './deps.ts';
import { purchaseView } from './views.ts';

type Deps = Pick<Dependencies, 'store'>;

export function getSettings(deps: Deps, siteId: string): Promise<SiteSettings> {
  return deps.store.getSettings(siteId);
}

/** Fields left out keep their current value. */
export async function updateSettings(
  deps: Deps,
  siteId: string,
  input: Partial<Omit<SiteSettings, 'siteId'>>,
): Promise<SiteSettings> {
  const current = await deps.store.getSettings(siteId);
  const next: SiteSettings = {
    siteId,
    selfCancelEnabled: input.selfCancelEnabled ?? current.selfCancelEnabled,
    timezone: input.timezone ?? current.timezone,
  };
  await deps.store.putSettings(next);
  return next;
}

/** Upsert. Re-putting an archived product brings it back. */
export async function upsertProduct(
  deps: Deps,
  siteId: string,
  productId: string,
  input: { name: string; description?: string | null | undefined },
  now: Date,
): Promise<Product> {
  const product: Product = {
    siteId,
    productId,
    name: input.name,
    description: input.description ?? null,
    archivedAt: null,
    updatedAt: toInstant(now),
  };
  await deps.store.putProduct(product);
  return product;
}

/** Rule 11: archiving only hides the product from new offers; existing grants are untouched. */
export async function archiveProduct(deps: Deps, siteId: string, productId: string, now: Date): Promise<Product> {
  const product = await deps.store.getProduct(siteId, productId);
  if (!product) throw new SiteResourceNotFoundError(`product ${productId} not found`);
  if (product.archivedAt) return product;
  const archived = { ...product, archivedAt: toInstant(now), updatedAt: toInstant(now) };
  await deps.store.putProduct(archived);
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
  const products = await deps.store.getProducts(siteId, productIds);
  const problems = input.productIds.flatMap((productId, index) => {
    const product = products.get(productId);
    if (!product) return [{ field: `productIds[${index}]`, message: `product ${productId} does not exist` }];
    if (product.archivedAt) return [{ field: `productIds[${index}]`, message: `product ${productId} is archived` }];
    return [];
  });
  if (problems.length > 0) throw new InvalidInputError(problems.map((p) => p.message).join('; '), problems);
  const offer: Offer = {
    siteId,
    offerId,
    name: input.name,
    productIds,
    price: input.price,
    accessDays: input.accessDays ?? null,
    archivedAt: null,
    updatedAt: toInstant(now),
  };
  await deps.store.putOffer(offer);
  return offer;
}

/** Rule 11: archiving an offer stops new sales only; it never revokes access nor cancels billing. */
export async function archiveOffer(deps: Deps, siteId: string, offerId: string, now: Date): Promise<Offer> {
  const offer = await deps.store.getOffer(siteId, offerId);
  if (!offer) throw new SiteResourceNotFoundError(`offer ${offerId} not found`);
  if (offer.archivedAt) return offer;
  const archived = { ...offer, archivedAt: toInstant(now), updatedAt: toInstant(now) };
  await deps.store.putOffer(archived);
  return archived;
}

export async function upsertCustomer(
  deps: Deps,
  siteId: string,
  customerId: string,
  input: { email: string; name?: string | null | undefined },
  now: Date,
): Promise<Customer> {
  const customer: Customer = {
    siteId,
    customerId,
    email: input.email,
    name: input.name ?? null,
    updatedAt: toInstant(now),
  };
  await deps.store.putCustomer(customer);
  return customer;
}

export async function getCustomer(deps: Deps, siteId: string, customerId: string) {
  const { customer, purchases } = await deps.store.getCustomerWithPurchases(siteId, customerId);
  if (!customer) throw new CustomerNotFoundError(customerId);
  return { ...customer, purchases: purchases.map(purchaseView) };
}
