import { BatchWriteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { BulkJob, JobMarker, JobPage, PageTally } from '../domain/bulk-jobs.ts';
import type { BulkJobStore, IdempotentJob } from '../ports/bulk-jobs.ts';
import type { Page } from '../ports/purchases.ts';
import { items } from './items.ts';
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

const BULK_JOB_KEYS: JobKeys = { job: keys.bulkJob, page: keys.jobPage, idempotency: keys.bulkJobIdempotency };

/** Page items written before the job itself, in batches of DynamoDB's BatchWrite limit. */
const BATCH_WRITE_LIMIT = 25;

/**
 * DynamoDB implementation of BulkJobStore (keys.ts: a site's jobs in one partition, each job's pages and
 * markers in its own). Counters move once per page, in one transaction with the page's `counted` flag, so a
 * redelivered page never counts twice and the job item is never a per-purchase hot key.
 */
export class DynamoBulkJobStore implements BulkJobStore {
  constructor(private readonly table: Table) {}

  async createJob(
    job: BulkJob,
    pages: readonly JobPage[],
    idempotency: { key: string; fingerprint: string } | null,
  ): Promise<IdempotentJob | null> {
    const TableName = this.table.name;
    // A customer list may need up to 100 pages: more than one transaction holds. They are written first; until
    // the job item exists nothing reads them, and a crash in between leaves only unreachable items.
    const [first, ...rest] = pages;
    for (let i = 0; i < rest.length; i += BATCH_WRITE_LIMIT) {
      let requests = rest
        .slice(i, i + BATCH_WRITE_LIMIT)
        .map((page) => ({ PutRequest: { Item: items.jobPage(page) } }));
      while (requests.length > 0) {
        const result = await this.table.db.send(new BatchWriteCommand({ RequestItems: { [TableName]: requests } }));
        requests = (result.UnprocessedItems?.[TableName] ?? []) as typeof requests;
      }
    }
    return createJobItems(
      this.table,
      BULK_JOB_KEYS,
      items.bulkJob(job) as Item & BulkJob,
      first ? items.jobPage(first) : null,
      idempotency,
      'bulkJobIdempotency',
    );
  }

  findIdempotentJob(siteId: string, key: string): Promise<IdempotentJob | null> {
    return findIdempotentJobItem(this.table, BULK_JOB_KEYS, siteId, key);
  }

  async getJob(siteId: string, jobId: string): Promise<BulkJob | null> {
    return strip<BulkJob>(await this.table.get(keys.bulkJob(siteId, jobId)));
  }

  listJobs(siteId: string, limit: number, cursor: string | null): Promise<Page<BulkJob>> {
    return listJobItems<BulkJob>(this.table, keys.bulkJobsPartition(siteId), keys.bulkJobPrefix, limit, cursor);
  }

  async getPage(siteId: string, jobId: string, page: number): Promise<JobPage | null> {
    return strip<JobPage>(await this.table.get(keys.jobPage(siteId, jobId, page)));
  }

  resolvePage(page: JobPage, next: JobPage | null): Promise<JobPage> {
    return resolvePageItems(this.table, BULK_JOB_KEYS, page as JobPage & Item, next ? items.jobPage(next) : null);
  }

  markRunning(siteId: string, jobId: string, at: string): Promise<void> {
    return transitionJob(this.table, keys.bulkJob(siteId, jobId), 'running', at);
  }

  async putMarker(marker: JobMarker): Promise<JobMarker | null> {
    try {
      await this.table.db.send(
        new PutCommand({
          TableName: this.table.name,
          Item: items.jobMarker(marker),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return null;
    } catch (error) {
      if (!cancellationReasons(error)) throw error;
      return this.getMarker(marker.siteId, marker.jobId, marker.purchaseId);
    }
  }

  async getMarker(siteId: string, jobId: string, purchaseId: string): Promise<JobMarker | null> {
    return strip<JobMarker>(await this.table.get(keys.jobMarker(siteId, jobId, purchaseId)));
  }

  listMarkers(
    siteId: string,
    jobId: string,
    outcome: JobMarker['outcome'],
    limit: number,
    cursor: string | null,
  ): Promise<Page<JobMarker>> {
    return queryPage<JobMarker>(
      this.table,
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        FilterExpression: 'outcome = :outcome',
        ExpressionAttributeValues: {
          ':pk': keys.jobPartition(siteId, jobId),
          ':prefix': keys.jobMarkerPrefix,
          ':outcome': outcome,
        },
        ConsistentRead: true,
      },
      limit,
      cursor,
    );
  }

  countPage(siteId: string, jobId: string, page: number, tally: PageTally): Promise<boolean> {
    const { failures, ...counters } = tally;
    return countPageItems(this.table, BULK_JOB_KEYS, { siteId, jobId, page }, counters, { failures });
  }

  async completeIfCounted(siteId: string, jobId: string, at: string): Promise<BulkJob | null> {
    await transitionJob(this.table, keys.bulkJob(siteId, jobId), 'completed', at);
    return this.getJob(siteId, jobId);
  }

  failJob(siteId: string, jobId: string, error: string, at: string): Promise<void> {
    return transitionJob(this.table, keys.bulkJob(siteId, jobId), 'failed', at, error);
  }
}
