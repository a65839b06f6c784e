import { productionHandler } from '#shared/wiring.ts';
import { createBulkWorkerHandler } from './app.ts';

export const handler = productionHandler(
  'bulk-worker',
  {
    timers: () => import('#shared/adapters/eventbridge-scheduler.ts'),
    jobQueue: () => import('#shared/adapters/sqs-job-queue.ts'),
  },
  ({ deps, jobs, jobQueue }) => createBulkWorkerHandler({ ...deps, jobs, jobQueue }),
);
