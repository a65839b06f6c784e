import {
  BatchWriteCommand,
  PutCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { BulkJob, JobMarker, JobPage, PageTally } from '../domain/bulk-jobs.ts';
import type { BulkJobStore, IdempotentJob } from '../ports/bulk-jobs.ts';
import type { Page } from '../ports/purchases.ts';
import { items } from './items.ts';
import { keys } from './keys.ts';
import { queryPage } from './pagination.ts';
import { cancellationReasons, strip, type Table, type TransactItem } from './table.ts';

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
    const transaction: TransactItem[] = [
      { Put: { TableName, Item: items.bulkJob(job), ConditionExpression: 'attribute_not_exists(pk)' } },
      ...(first ? [{ Put: { TableName, Item: items.jobPage(first) } }] : []),
    ];
    if (idempotency) {
      transaction.push({
        Put: {
          TableName,
          Item: {
            ...keys.bulkJobIdempotency(job.siteId, idempotency.key),
            entity: 'bulkJobIdempotency',
            jobId: job.jobId,
            fingerprint: idempotency.fingerprint,
            createdAt: job.createdAt,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
    }
    try {
      await this.table.db.send(new TransactWriteCommand({ TransactItems: transaction }));
      return null;
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (idempotency && reasons?.[transaction.length - 1] === 'ConditionalCheckFailed') {
        const earlier = await this.findIdempotentJob(job.siteId, idempotency.key);
        if (earlier) return earlier;
      }
      throw error;
    }
  }

  async findIdempotentJob(siteId: string, key: string): Promise<IdempotentJob | null> {
    const found = await this.table.get(keys.bulkJobIdempotency(siteId, key));
    return found ? { jobId: String(found.jobId), fingerprint: String(found.fingerprint) } : null;
  }

  async getJob(siteId: string, jobId: string): Promise<BulkJob | null> {
    return strip<BulkJob>(await this.table.get(keys.bulkJob(siteId, jobId)));
  }

  listJobs(siteId: string, limit: number, cursor: string | null): Promise<Page<BulkJob>> {
    return queryPage<BulkJob>(
      this.table,
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.bulkJobsPartition(siteId), ':prefix': keys.bulkJobPrefix },
        // Job ids are ULIDs: sort key order is creation order, so newest first is a reverse Query.
        ScanIndexForward: false,
        ConsistentRead: true,
      },
      limit,
      cursor,
    );
  }

  async getPage(siteId: string, jobId: string, page: number): Promise<JobPage | null> {
    return strip<JobPage>(await this.table.get(keys.jobPage(siteId, jobId, page)));
  }

  async resolvePage(page: JobPage, next: JobPage | null): Promise<JobPage> {
    const TableName = this.table.name;
    const transaction: NonNullable<TransactWriteCommandInput['TransactItems']> = [
      {
        Update: {
          TableName,
          Key: keys.jobPage(page.siteId, page.jobId, page.page),
          UpdateExpression: 'SET purchaseIds = :ids, #last = :last',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(purchaseIds) OR purchaseIds = :null)',
          ExpressionAttributeNames: { '#last': 'last' },
          ExpressionAttributeValues: { ':ids': page.purchaseIds, ':last': page.last, ':null': null },
        },
      },
    ];
    if (next) {
      // Only the first resolver of this page gets here with a next page, so it cannot exist yet; the condition
      // keeps a stray retry from resetting a page a worker already resolved.
      transaction.push({
        Put: { TableName, Item: items.jobPage(next), ConditionExpression: 'attribute_not_exists(pk)' },
      });
    }
    if (page.last) {
      transaction.push({
        Update: {
          TableName,
          Key: keys.bulkJob(page.siteId, page.jobId),
          UpdateExpression: 'SET pageCount = :count',
          ExpressionAttributeValues: { ':count': page.page + 1 },
        },
      });
    }
    try {
      await this.table.db.send(new TransactWriteCommand({ TransactItems: transaction }));
      return page;
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (!reasons?.includes('ConditionalCheckFailed') && !reasons?.includes('TransactionConflict')) throw error;
      // Another delivery of this page resolved it first: its purchases are the page's.
      const stored = await this.getPage(page.siteId, page.jobId, page.page);
      if (!stored?.purchaseIds) throw error;
      return stored;
    }
  }

  async markRunning(siteId: string, jobId: string, at: string): Promise<void> {
    try {
      await this.table.db.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: keys.bulkJob(siteId, jobId),
          UpdateExpression: 'SET #status = :running, startedAt = :at',
          ConditionExpression: '#status = :queued',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':running': 'running', ':queued': 'queued', ':at': at },
        }),
      );
    } catch (error) {
      if (!cancellationReasons(error)) throw error;
    }
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

  async countPage(siteId: string, jobId: string, page: number, tally: PageTally): Promise<boolean> {
    const TableName = this.table.name;
    try {
      await this.table.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName,
                Key: keys.jobPage(siteId, jobId, page),
                UpdateExpression: 'SET counted = :true',
                ConditionExpression: 'attribute_exists(pk) AND counted = :false',
                ExpressionAttributeValues: { ':true': true, ':false': false },
              },
            },
            {
              Update: {
                TableName,
                Key: keys.bulkJob(siteId, jobId),
                UpdateExpression:
                  'ADD #total :total, done :done, skipped :skipped, failed :failed, pagesCounted :one ' +
                  'SET failures = list_append(failures, :failures)',
                ConditionExpression: 'attribute_exists(pk)',
                ExpressionAttributeNames: { '#total': 'total' },
                ExpressionAttributeValues: {
                  ':total': tally.total,
                  ':done': tally.done,
                  ':skipped': tally.skipped,
                  ':failed': tally.failed,
                  ':one': 1,
                  ':failures': tally.failures,
                },
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (reasons?.[0] === 'ConditionalCheckFailed') return false;
      throw error;
    }
  }

  async completeIfCounted(siteId: string, jobId: string, at: string): Promise<BulkJob | null> {
    try {
      await this.table.db.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: keys.bulkJob(siteId, jobId),
          UpdateExpression: 'SET #status = :completed, finishedAt = :at',
          // Two attributes of the item compared in the condition: exact, whatever order pages were counted in.
          ConditionExpression: 'pagesCounted = pageCount AND #status IN (:queued, :running)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':completed': 'completed',
            ':at': at,
            ':queued': 'queued',
            ':running': 'running',
          },
        }),
      );
    } catch (error) {
      if (!cancellationReasons(error)) throw error;
    }
    return this.getJob(siteId, jobId);
  }

  async failJob(siteId: string, jobId: string, error: string, at: string): Promise<void> {
    try {
      await this.table.db.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: keys.bulkJob(siteId, jobId),
          UpdateExpression: 'SET #status = :failed, finishedAt = :at, #error = :error',
          ConditionExpression: '#status IN (:queued, :running)',
          ExpressionAttributeNames: { '#status': 'status', '#error': 'error' },
          ExpressionAttributeValues: {
            ':failed': 'failed',
            ':at': at,
            ':error': error,
            ':queued': 'queued',
            ':running': 'running',
          },
        }),
      );
    } catch (caught) {
      if (!cancellationReasons(caught)) throw caught;
    }
  }
}
