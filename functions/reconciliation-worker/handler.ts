import { productionHandler } from '#shared/wiring.ts';
import { createReconciliationWorkerHandler } from './app.ts';

export const handler = productionHandler(
  'reconciliation-worker',
  {
    timers: () => import('#shared/adapters/eventbridge-scheduler.ts'),
    processorSecret: () => import('#shared/processor-settings.ts'),
    processors: () => import('#shared/adapters/processors.ts'),
    reconciliationQueue: () => import('#shared/adapters/sqs-job-queue.ts'),
  },
  ({ deps, reconciliations, reconciliationQueue, throttle }) =>
    createReconciliationWorkerHandler({ ...deps, reconciliations, reconciliationQueue, throttle }),
);
