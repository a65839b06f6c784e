import { describe, expect, it } from '@jest/globals';
import { ConflictError } from '../../shared/domain/errors.ts';
import {
  ACCOUNT_SETTING,
  billingAccount,
  billsThroughSiteAccount,
  connectedAccount,
  foreignAccountReason,
  requireConnectedAccount,
} from '../../shared/domain/processor-accounts.ts';
import type { Processor } from '../../shared/domain/types.ts';

const CONNECTED = { stripeAccountId: 'acct_site', paypalMerchantId: 'MERCHANTSITE' };
const NOTHING = { stripeAccountId: null, paypalMerchantId: null };

function conflictOf(action: () => unknown): ConflictError {
  try {
    action();
  } catch (error) {
    if (error instanceof ConflictError) return error;
    throw error;
  }
  throw new Error('expected a ConflictError');
}

describe('rule 17: which account a site bills through', () => {
  it('only stripe and paypal bill through the site’s own account', () => {
    const processors: Processor[] = ['none', 'native', 'stripe', 'paypal'];
    expect(processors.filter(billsThroughSiteAccount)).toEqual(['stripe', 'paypal']);
    expect(ACCOUNT_SETTING).toEqual({ stripe: 'stripeAccountId', paypal: 'paypalMerchantId' });
  });

  it('connectedAccount reads the setting of that processor, and none for none/native or an unset one', () => {
    expect(connectedAccount(CONNECTED, 'stripe')).toBe('acct_site');
    expect(connectedAccount(CONNECTED, 'paypal')).toBe('MERCHANTSITE');
    expect(connectedAccount(CONNECTED, 'native')).toBeNull();
    expect(connectedAccount(CONNECTED, 'none')).toBeNull();
    expect(connectedAccount(NOTHING, 'stripe')).toBeNull();
    expect(connectedAccount({ stripeAccountId: undefined, paypalMerchantId: undefined } as never, 'paypal')).toBeNull();
  });

  it('requireConnectedAccount: the account, or a 409 naming the missing setting', () => {
    expect(requireConnectedAccount(CONNECTED, 'stripe')).toBe('acct_site');
    expect(requireConnectedAccount(CONNECTED, 'paypal')).toBe('MERCHANTSITE');
    expect(requireConnectedAccount(NOTHING, 'native')).toBeNull();
    expect(requireConnectedAccount(NOTHING, 'none')).toBeNull();

    const stripe = conflictOf(() => requireConnectedAccount(NOTHING, 'stripe'));
    expect(stripe.message).toBe(
      'the site has no Stripe account connected: set stripeAccountId in the site settings to bill through stripe',
    );
    expect(stripe.details).toEqual([{ field: 'stripeAccountId', message: 'not set in the site settings' }]);
    const paypal = conflictOf(() => requireConnectedAccount({ ...CONNECTED, paypalMerchantId: null }, 'paypal'));
    expect(paypal.message).toBe(
      'the site has no PayPal merchant connected: set paypalMerchantId in the site settings to bill through paypal',
    );
    expect(paypal.details).toEqual([{ field: 'paypalMerchantId', message: 'not set in the site settings' }]);
  });

  it('billingAccount: the purchase’s own account first, else the site’s (legacy purchases), none for none/native', () => {
    expect(billingAccount({ processor: 'stripe', processorAccount: 'acct_old' }, CONNECTED)).toBe('acct_old');
    expect(billingAccount({ processor: 'stripe', processorAccount: null }, CONNECTED)).toBe('acct_site');
    expect(billingAccount({ processor: 'paypal', processorAccount: null }, CONNECTED)).toBe('MERCHANTSITE');
    expect(billingAccount({ processor: 'native', processorAccount: null }, NOTHING)).toBeNull();
    expect(billingAccount({ processor: 'none', processorAccount: 'acct_x' }, CONNECTED)).toBeNull();
    expect(conflictOf(() => billingAccount({ processor: 'stripe', processorAccount: null }, null)).details).toEqual([
      { field: 'stripeAccountId', message: 'not set in the site settings' },
    ]);
  });
});

describe('rule 17: a webhook touches only purchases of the account it comes from', () => {
  it('native (the platform’s account) takes only events that name no connected account', () => {
    const native = { processor: 'native' as const, processorAccount: null };
    expect(foreignAccountReason(native, null)).toBeNull();
    expect(foreignAccountReason(native, 'acct_b')).toBe(
      "the event comes from connected account acct_b, not the platform's account",
    );
  });

  it('stripe takes only its own connected account; a legacy purchase without one takes any', () => {
    const stripe = { processor: 'stripe' as const, processorAccount: 'acct_a' };
    expect(foreignAccountReason(stripe, 'acct_a')).toBeNull();
    expect(foreignAccountReason(stripe, 'acct_b')).toBe(
      "the event comes from account acct_b, not the purchase's account acct_a",
    );
    expect(foreignAccountReason(stripe, null)).toBe(
      "the event comes from the platform's account, not the purchase's account acct_a",
    );
    expect(foreignAccountReason({ processor: 'stripe', processorAccount: null }, 'acct_b')).toBeNull();
  });

  it('paypal refuses only an event that names another merchant', () => {
    const paypal = { processor: 'paypal' as const, processorAccount: 'MERCHANTA' };
    expect(foreignAccountReason(paypal, 'MERCHANTA')).toBeNull();
    expect(foreignAccountReason(paypal, null)).toBeNull();
    expect(foreignAccountReason(paypal, 'MERCHANTB')).toBe(
      "the event names merchant MERCHANTB, not the purchase's merchant MERCHANTA",
    );
    expect(foreignAccountReason({ processor: 'paypal', processorAccount: null }, 'MERCHANTB')).toBeNull();
    expect(foreignAccountReason({ processor: 'none', processorAccount: null }, 'acct_b')).toBeNull();
  });
});
