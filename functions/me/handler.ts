import { eventBridgeTimers } from '#shared/adapters/eventbridge-scheduler.ts';
import { payPalCancelRedirectUrl } from '#shared/adapters/paypal.ts';
import { processorRegistry } from '#shared/adapters/processors.ts';
import { loadProcessorSettings } from '#shared/processor-settings.ts';
import { productionDependencies } from '#shared/wiring.ts';
import { createMeHandler } from './app.ts';

const settings = await loadProcessorSettings();
const environment = settings.paypal?.environment ?? 'live';

export const handler = createMeHandler(
  productionDependencies({ timers: eventBridgeTimers, processors: processorRegistry(settings) }),
  {
    payPalRedirect: (subscriptionId) => payPalCancelRedirectUrl(subscriptionId, environment),
  },
);
