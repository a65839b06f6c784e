import type { Customer, Instant, Offer, Product, SiteSettings } from '../domain/types.ts';

/** Settings a site has before it changes any (DESIGN.md §1). */
export const DEFAULT_SETTINGS: Omit<SiteSettings, 'siteId'> = {
  selfCancelEnabled: false,
  timezone: 'UTC',
  stripeAccountId: null,
  paypalMerchantId: null,
};

/**
 * Port for a site's settings and catalog (products, offers, customers). Every write changes only the fields
 * it is given, in one conditional update, so two concurrent partial writes both land; archiving keeps the
 * first archive time. Adapters: DynamoDB (shared/store/catalog.ts), in memory (test/support/memory-store.ts).
 */
export interface CatalogStore {
  getSettings(siteId: string): Promise<SiteSettings>;
  /** Sets the given fields only; the others keep their value. Returns the settings after the change. */
  updateSettings(siteId: string, patch: Partial<Omit<SiteSettings, 'siteId'>>): Promise<SiteSettings>;

  getProduct(siteId: string, productId: string): Promise<Product | null>;
  getProducts(siteId: string, productIds: string[]): Promise<Map<string, Product>>;
  /** Creates or replaces the product's fields and brings an archived product back. */
  upsertProduct(product: Omit<Product, 'archivedAt'>): Promise<Product>;
  /** Archives once: a second archive keeps the first `archivedAt`. Null when the product does not exist. */
  archiveProduct(siteId: string, productId: string, at: Instant): Promise<Product | null>;

  getOffer(siteId: string, offerId: string): Promise<Offer | null>;
  upsertOffer(offer: Omit<Offer, 'archivedAt'>): Promise<Offer>;
  archiveOffer(siteId: string, offerId: string, at: Instant): Promise<Offer | null>;
  /**
   * The site's offers, archived ones included (their purchases still bill), in offer id order (code units, as
   * the table sorts): the first `limit` whose id comes after `after` (null: from the first). Positioned by an
   * offer id rather than an opaque cursor: a caller walking the catalog holds the id of the offer it stands on,
   * and offers are archived, never deleted, so that id keeps its place.
   */
  listOffers(siteId: string, after: string | null, limit: number): Promise<Offer[]>;

  getCustomer(siteId: string, customerId: string): Promise<Customer | null>;
  upsertCustomer(customer: Customer): Promise<Customer>;
  /** Creates the customer unless it exists (a processor may report a purchase before the site sent the customer). */
  createCustomerIfMissing(customer: Customer): Promise<void>;
}
