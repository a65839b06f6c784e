import type { SubscriptionState } from '../../shared/domain/processor-events.ts';
import { ledgerPayment, refundable } from '../../shared/domain/refunds.ts';
import type {
  Actor,
  Instant,
  Offer,
  Price,
  Processor,
  Purchase,
  RefundablePayment,
} from '../../shared/domain/types.ts';
import type { BillingProcessor, ProcessorRefund, ProcessorRegistry } from '../../shared/ports/processor.ts';
import { type TimerEvent, type TimerScheduler, timerName } from '../../shared/ports/scheduler.ts';
import type { Stores } from '../../shared/ports/stores.ts';
import type { Dependencies } from '../../shared/usecases/deps.ts';
import { createMemoryStores } from './memory-store.ts';

/**
 * Use-case dependencies for unit tests: the in-memory stores (held to the stores' contract), a scheduler and
 * processors that record what they were asked, a fixed clock and predictable ids. No DynamoDB, no module mocks.
 */

/** The instant every use-case unit test starts at; only `clock.set` moves it. */
export const T0 = '2026-03-01T10:00:00.000Z';

export const ADMIN: Actor = { type: 'admin', email: 'owner@example.com' };
export const SUPPORT: Actor = { type: 'support', email: 'agent@platform.example' };
export const AUTOMATION: Actor = { type: 'automation', id: 'rule-42' };

export class FixedClock {
  private current: Date;
  constructor(instant: Instant = T0) {
    this.current = new Date(instant);
  }
  readonly now = () => new Date(this.current);
  set(instant: Instant) {
    this.current = new Date(instant);
  }
}

/** Remembers the timers it holds and every call, in order. */
export class MemoryScheduler implements TimerScheduler {
  readonly timers = new Map<string, TimerEvent>();
  readonly calls: string[] = [];
  async upsert(timer: TimerEvent) {
    this.timers.set(timerName(timer), timer);
    this.calls.push(`upsert ${timer.purpose} ${timer.dueAt}`);
  }
  async remove(timer: Omit<TimerEvent, 'dueAt'>) {
    this.timers.delete(timerName(timer));
    this.calls.push(`remove ${timer.purpose}`);
  }
  forPurchase(purchaseId: string): Omit<TimerEvent, 'siteId' | 'purchaseId'>[] {
    return [...this.timers.values()]
      .filter((timer) => timer.purchaseId === purchaseId)
      .map(({ purpose, dueAt }) => ({ purpose, dueAt }));
  }
}

export interface ProcessorCall {
  method: keyof Omit<BillingProcessor, 'schedulesCancellation'>;
  purchaseId: string;
  key: string | null;
  args: unknown[];
}

/**
 * A BillingProcessor that records every call. `failNext` makes the next call of a method throw (a refusal or
 * an outage); `payment` is what paymentToRefund answers (by default the ledger's payment, as for `none`).
 */
export class RecordingProcessor implements BillingProcessor {
  readonly calls: ProcessorCall[] = [];
  payment: ((purchase: Purchase) => RefundablePayment | null) | null = null;
  private readonly failures = new Map<ProcessorCall['method'], Error>();
  /** Runs inside the next call, before it answers: a concurrent request's write, for instance. */
  during: (() => Promise<void>) | null = null;

  /** What fetchSubscription answers per subscription id (the processor's own state); absent: null. */
  readonly subscriptions = new Map<string, SubscriptionState>();

  constructor(readonly schedulesCancellation = true) {}

  failNext(method: ProcessorCall['method'], error: Error) {
    this.failures.set(method, error);
  }

  called(method?: ProcessorCall['method']): ProcessorCall[] {
    return this.calls.filter((call) => method === undefined || call.method === method);
  }

  private async record(method: ProcessorCall['method'], purchase: Purchase, key: string | null, args: unknown[]) {
    this.calls.push({ method, purchaseId: purchase.purchaseId, key, args });
    const during = this.during;
    this.during = null;
    if (during) await during();
    const failure = this.failures.get(method);
    if (failure) {
      this.failures.delete(method);
      throw failure;
    }
  }

  async cancelNow(purchase: Purchase, key: string) {
    await this.record('cancelNow', purchase, key, []);
  }
  async scheduleCancellation(purchase: Purchase, when: 'period_end' | 'date', at: Instant, key: string) {
    await this.record('scheduleCancellation', purchase, key, [when, at]);
  }
  async stopCancellation(purchase: Purchase, key: string) {
    await this.record('stopCancellation', purchase, key, []);
  }
  async pause(purchase: Purchase, resumesAt: Instant | null, key: string) {
    await this.record('pause', purchase, key, [resumesAt]);
  }
  async unpause(purchase: Purchase, key: string) {
    await this.record('unpause', purchase, key, []);
  }
  async paymentToRefund(purchase: Purchase) {
    await this.record('paymentToRefund', purchase, null, []);
    return this.payment ? this.payment(purchase) : ledgerPayment(purchase);
  }
  async refund(
    purchase: Purchase,
    amount: number | null,
    key: string,
    payment?: RefundablePayment,
  ): Promise<ProcessorRefund> {
    await this.record('refund', purchase, key, [amount, payment]);
    const paid = payment ?? ledgerPayment(purchase);
    return {
      processorRefundId: `re_${this.called('refund').length}`,
      amount: amount ?? (paid ? refundable(purchase, paid).amount : 0),
      currency: paid?.currency ?? 'usd',
    };
  }
  async fetchSubscription(purchase: Purchase): Promise<SubscriptionState | null> {
    await this.record('fetchSubscription', purchase, null, []);
    return this.subscriptions.get(purchase.processorSubscriptionId ?? '') ?? null;
  }
}

export interface MemoryDeps {
  deps: Dependencies;
  stores: Stores;
  clock: FixedClock;
  scheduler: MemoryScheduler;
  /** One recording processor per kind; PayPal cannot schedule a cancellation itself. */
  processors: Record<Processor, RecordingProcessor>;
}

export function memoryDeps(options: { now?: Instant } = {}): MemoryDeps {
  const stores = createMemoryStores();
  const clock = new FixedClock(options.now);
  const scheduler = new MemoryScheduler();
  const processors = {
    none: new RecordingProcessor(),
    native: new RecordingProcessor(),
    stripe: new RecordingProcessor(),
    paypal: new RecordingProcessor(false),
  };
  let ids = 0;
  const deps: Dependencies = {
    ...stores,
    clock: clock.now,
    newId: (prefix) => `${prefix}_${++ids}`,
    scheduler,
    processors: processors satisfies ProcessorRegistry,
  };
  return { deps, stores, clock, scheduler, processors };
}

export const SITE = 'site-1';
export const CUSTOMER = 'cus-1';

export const PRICES = {
  monthly: { type: 'subscription', amount: 2900, currency: 'usd', interval: 'month', intervalCount: 1 },
  plan: { type: 'payment_plan', amount: 10000, currency: 'usd', installments: 3, interval: 'month', intervalCount: 1 },
  lifetime: { type: 'one_time', amount: 19900, currency: 'usd' },
  trial: { type: 'free' },
} satisfies Record<string, Price>;

/**
 * A site with a customer, two products and one offer per kind of price: `monthly` (subscription), `plan`
 * (three monthly installments), `lifetime` (one-time) and `trial` (free, 14 days of access).
 */
/** The processor accounts `seedSite` connects (rule 17): Stripe and PayPal purchases bill through them. */
export const SITE_ACCOUNTS = { stripeAccountId: 'acct_site1', paypalMerchantId: 'SITE1MERCHANT' } as const;

export async function seedSite({ stores }: Pick<MemoryDeps, 'stores'>, siteId = SITE): Promise<void> {
  const { catalog } = stores;
  await catalog.updateSettings(siteId, SITE_ACCOUNTS);
  await catalog.upsertCustomer({ siteId, customerId: CUSTOMER, email: 'ada@example.com', name: 'Ada', updatedAt: T0 });
  for (const productId of ['course', 'community']) {
    await catalog.upsertProduct({ siteId, productId, name: productId, description: null, updatedAt: T0 });
  }
  const offer = (offerId: keyof typeof PRICES, accessDays: number | null = null): Omit<Offer, 'archivedAt'> => ({
    siteId,
    offerId,
    name: offerId,
    productIds: ['course', 'community'],
    price: PRICES[offerId],
    accessDays,
    updatedAt: T0,
  });
  await catalog.upsertOffer(offer('monthly'));
  await catalog.upsertOffer(offer('plan'));
  await catalog.upsertOffer(offer('lifetime'));
  await catalog.upsertOffer(offer('trial', 14));
}
