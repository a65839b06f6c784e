import { productionHandler } from '#shared/wiring.ts';
import { createReconciliationsHandler } from './app.ts';

export const handler = productionHandler(
  'reconciliations',
  { reconciliationQueue: () => import('#shared/adapters/sqs-job-queue.ts') },
  ({ deps, reconciliations, reconciliationQueue }) =>
    createReconciliationsHandler({ ...deps, reconciliations, reconciliationQueue }),
);
