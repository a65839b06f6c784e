import { noProcessor, type ProcessorRegistry, unconfiguredProcessor } from '../ports/processor.ts';
import type { ProcessorSettings } from '../processor-settings.ts';
import { createPayPalProcessor } from './paypal.ts';
import { createStripeProcessor, stripeClient } from './stripe.ts';

/**
 * Processor adapters by name, from the settings. A processor without credentials answers every call with
 * a clear 502 naming it; processor `none` (billing recorded in membergate only) needs nothing. Only the
 * functions that call processors import this module, so the others do not bundle the Stripe SDK.
 */
export function processorRegistry(settings: ProcessorSettings | null): ProcessorRegistry {
  return {
    none: noProcessor,
    stripe: settings?.stripe
      ? createStripeProcessor({ stripe: stripeClient(settings.stripe), processor: 'stripe' })
      : unconfiguredProcessor('stripe'),
    native: settings?.native
      ? createStripeProcessor({ stripe: stripeClient(settings.native), processor: 'native' })
      : unconfiguredProcessor('native'),
    paypal: settings?.paypal ? createPayPalProcessor(settings.paypal) : unconfiguredProcessor('paypal'),
  };
}
