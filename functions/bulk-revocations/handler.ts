import { productionHandler } from '#shared/wiring.ts';
import { createBulkRevocationsHandler } from './app.ts';

export const handler = productionHandler(
  'bulk-revocations',
  { jobQueue: () => import('#shared/adapters/sqs-job-queue.ts') },
  ({ deps, jobs, jobQueue }) => createBulkRevocationsHandler({ ...deps, jobs, jobQueue }),
);
