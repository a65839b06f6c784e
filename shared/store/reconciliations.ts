import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type {
  DriftItem,
  ReconciliationJob,
  ReconciliationMarker,
  ReconciliationPage,
  ReconciliationTally,
} from '../domain/reconciliation.ts';
import type { IdempotentJob } from '../ports/bulk-jobs.ts';
import type { Page } from '../ports/purchases.ts';
import type { ReconciliationStore } from '../ports/reconciliations.ts';
import {
  countPageItems,
  createJobItems,
  findIdempotentJobItem,
  type JobKeys,
  listJobItems,
  resolvePageItems,
  transitionJob,
} from './job-items.ts';
import { keys } from './keys.ts';
import { queryPage } from './pagination.ts';
import { cancellationReasons, type Item, strip, type Table } from './table.ts';

const RECONCILIATION_KEYS: JobKeys = {
  job: keys.reconciliation,
  page: keys.jobPage,
  idempotency: keys.reconciliationIdempotency,
};

const jobItem = (job: ReconciliationJob): Item => ({
  ...keys.reconciliation(job.siteId, job.jobId),
  entity: 'reconciliation',
  ...job,
});
const pageItem = (page: ReconciliationPage): Item => ({
  ...keys.jobPage(page.siteId, page.jobId, page.page),
  entity: 'reconciliationPage',
  ...page,
});
const markerItem = (marker: ReconciliationMarker): Item => ({
  ...keys.jobMarker(marker.siteId, marker.jobId, marker.purchaseId),
  entity: 'reconciliationMarker',
  ...marker,
});

/**
 * DynamoDB implementation of ReconciliationStore: the job items in the site's RECONCILIATIONS partition, pages
 * and per-purchase markers in the job's own partition (keys.ts), the lifecycle writes shared with bulk jobs.
 */
export class DynamoReconciliationStore implements ReconciliationStore {
  constructor(private readonly table: Table) {}

  createJob(
    job: ReconciliationJob,
    first: ReconciliationPage,
    idempotency: { key: string; fingerprint: string } | null,
  ): Promise<IdempotentJob | null> {
    return createJobItems(
      this.table,
      RECONCILIATION_KEYS,
      jobItem(job) as Item & ReconciliationJob,
      pageItem(first),
      idempotency,
      'reconciliationIdempotency',
    );
  }

  findIdempotentJob(siteId: string, key: string): Promise<IdempotentJob | null> {
    return findIdempotentJobItem(this.table, RECONCILIATION_KEYS, siteId, key);
  }

  async getJob(siteId: string, jobId: string): Promise<ReconciliationJob | null> {
    return strip<ReconciliationJob>(await this.table.get(keys.reconciliation(siteId, jobId)));
  }

  listJobs(siteId: string, limit: number, cursor: string | null): Promise<Page<ReconciliationJob>> {
    return listJobItems(this.table, keys.reconciliationsPartition(siteId), keys.bulkJobPrefix, limit, cursor);
  }

  async getPage(siteId: string, jobId: string, page: number): Promise<ReconciliationPage | null> {
    return strip<ReconciliationPage>(await this.table.get(keys.jobPage(siteId, jobId, page)));
  }

  resolvePage(page: ReconciliationPage, next: ReconciliationPage | null): Promise<ReconciliationPage> {
    return resolvePageItems(
      this.table,
      RECONCILIATION_KEYS,
      page as ReconciliationPage & Item,
      next ? pageItem(next) : null,
    );
  }

  markRunning(siteId: string, jobId: string, at: string): Promise<void> {
    return transitionJob(this.table, keys.reconciliation(siteId, jobId), 'running', at);
  }

  async putMarker(marker: ReconciliationMarker): Promise<ReconciliationMarker | null> {
    try {
      await this.table.db.send(
        new PutCommand({
          TableName: this.table.name,
          Item: markerItem(marker),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return null;
    } catch (error) {
      if (!cancellationReasons(error)) throw error;
      return strip<ReconciliationMarker>(
        await this.table.get(keys.jobMarker(marker.siteId, marker.jobId, marker.purchaseId)),
      );
    }
  }

  async settleRepair(
    siteId: string,
    jobId: string,
    purchaseId: string,
    repaired: boolean,
    reason: string | null,
  ): Promise<void> {
    await this.table.db.send(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.jobMarker(siteId, jobId, purchaseId),
        UpdateExpression: 'SET repaired = :repaired, #reason = :reason',
        ExpressionAttributeNames: { '#reason': 'reason' },
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':repaired': repaired, ':reason': reason },
      }),
    );
  }

  async listDrift(siteId: string, jobId: string, limit: number, cursor: string | null): Promise<Page<DriftItem[]>> {
    const page = await queryPage<ReconciliationMarker>(
      this.table,
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        FilterExpression: 'outcome = :drifted',
        ExpressionAttributeValues: {
          ':pk': keys.jobPartition(siteId, jobId),
          ':prefix': keys.jobMarkerPrefix,
          ':drifted': 'drifted',
        },
        ConsistentRead: true,
      },
      limit,
      cursor,
    );
    return { items: page.items.map((marker) => marker.items), nextCursor: page.nextCursor };
  }

  countPage(siteId: string, jobId: string, page: number, tally: ReconciliationTally): Promise<boolean> {
    const { problems, ...counters } = tally;
    return countPageItems(this.table, RECONCILIATION_KEYS, { siteId, jobId, page }, counters, { problems });
  }

  async completeIfCounted(siteId: string, jobId: string, at: string): Promise<ReconciliationJob | null> {
    await transitionJob(this.table, keys.reconciliation(siteId, jobId), 'completed', at);
    return this.getJob(siteId, jobId);
  }

  failJob(siteId: string, jobId: string, error: string, at: string): Promise<void> {
    return transitionJob(this.table, keys.reconciliation(siteId, jobId), 'failed', at, error);
  }
}
