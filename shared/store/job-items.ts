import { TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Page } from '../ports/purchases.ts';
import { queryPage } from './pagination.ts';
import { cancellationReasons, type Item, strip, type Table, type TransactItem } from './table.ts';

/**
 * The lifecycle every queued job shares (bulk revocations, reconciliations): a job item with a status and a
 * page count, pages whose purchases are fixed by their first delivery, counters added once per page with its
 * `counted` flag, and an Idempotency-Key beside the job. Each job kind keeps its own items and counters; these
 * are the writes whose conditions make a redelivered page harmless.
 */
type Key = { pk: string; sk: string };

/** A job's item key, page key and idempotency-key item key, as its store lays them out (keys.ts). */
export interface JobKeys {
  job(siteId: string, jobId: string): Key;
  page(siteId: string, jobId: string, page: number): Key;
  idempotency(siteId: string, key: string): Key;
}

export interface IdempotentJobRef {
  jobId: string;
  fingerprint: string;
}

/**
 * Writes a new job, its first page and (when given) its Idempotency-Key in one transaction; when the key was
 * used already, nothing is written and the earlier job is answered.
 */
export async function createJobItems(
  table: Table,
  jobKeys: JobKeys,
  job: Item & { siteId: string; jobId: string; createdAt: string },
  firstPage: Item | null,
  idempotency: { key: string; fingerprint: string } | null,
  entity: string,
): Promise<IdempotentJobRef | null> {
  const TableName = table.name;
  const transaction: TransactItem[] = [
    { Put: { TableName, Item: job, ConditionExpression: 'attribute_not_exists(pk)' } },
    ...(firstPage ? [{ Put: { TableName, Item: firstPage } }] : []),
  ];
  if (idempotency) {
    transaction.push({
      Put: {
        TableName,
        Item: {
          ...jobKeys.idempotency(job.siteId, idempotency.key),
          entity,
          jobId: job.jobId,
          fingerprint: idempotency.fingerprint,
          createdAt: job.createdAt,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    });
  }
  try {
    await table.db.send(new TransactWriteCommand({ TransactItems: transaction }));
    return null;
  } catch (error) {
    const reasons = cancellationReasons(error);
    if (idempotency && reasons?.[transaction.length - 1] === 'ConditionalCheckFailed') {
      const earlier = await findIdempotentJobItem(table, jobKeys, job.siteId, idempotency.key);
      if (earlier) return earlier;
    }
    throw error;
  }
}

export async function findIdempotentJobItem(
  table: Table,
  jobKeys: JobKeys,
  siteId: string,
  key: string,
): Promise<IdempotentJobRef | null> {
  const found = await table.get(jobKeys.idempotency(siteId, key));
  return found ? { jobId: String(found.jobId), fingerprint: String(found.fingerprint) } : null;
}

/** A site's jobs of one kind (one partition, sort keys `JOB#<ulid>`), newest first. */
export function listJobItems<T>(
  table: Table,
  partition: string,
  prefix: string,
  limit: number,
  cursor: string | null,
): Promise<Page<T>> {
  return queryPage<T>(
    table,
    {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': partition, ':prefix': prefix },
      // Job ids are ULIDs: sort key order is creation order, so newest first is a reverse Query.
      ScanIndexForward: false,
      ConsistentRead: true,
    },
    limit,
    cursor,
  );
}

/**
 * Fixes a page's purchases (only if no delivery fixed them first) and, in the same write, creates the next page
 * or, for the last page, records the job's page count. Answers the page as stored.
 */
export async function resolvePageItems<P extends Item & { siteId: string; jobId: string; page: number }>(
  table: Table,
  jobKeys: JobKeys,
  page: P & { purchaseIds: string[] | null; last: boolean },
  next: Item | null,
): Promise<P> {
  const TableName = table.name;
  const transaction: TransactItem[] = [
    {
      Update: {
        TableName,
        Key: jobKeys.page(page.siteId, page.jobId, page.page),
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
    transaction.push({ Put: { TableName, Item: next, ConditionExpression: 'attribute_not_exists(pk)' } });
  }
  if (page.last) {
    transaction.push({
      Update: {
        TableName,
        Key: jobKeys.job(page.siteId, page.jobId),
        UpdateExpression: 'SET pageCount = :count',
        ExpressionAttributeValues: { ':count': page.page + 1 },
      },
    });
  }
  try {
    await table.db.send(new TransactWriteCommand({ TransactItems: transaction }));
    return page;
  } catch (error) {
    const reasons = cancellationReasons(error);
    if (!reasons?.includes('ConditionalCheckFailed') && !reasons?.includes('TransactionConflict')) throw error;
    // Another delivery of this page resolved it first: its purchases are the page's.
    const stored = strip<P & { purchaseIds: string[] | null }>(
      await table.get(jobKeys.page(page.siteId, page.jobId, page.page)),
    );
    if (!stored?.purchaseIds) throw error;
    return stored;
  }
}

/**
 * Adds a page's counters to its job (`ADD` each of `counters`, `list_append` each of `lists`) and marks the page
 * counted, together and once: false when the page was counted already.
 */
export async function countPageItems(
  table: Table,
  jobKeys: JobKeys,
  page: { siteId: string; jobId: string; page: number },
  counters: Record<string, number>,
  lists: Record<string, unknown[]>,
): Promise<boolean> {
  const TableName = table.name;
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ':one': 1 };
  const adds = ['pagesCounted :one'];
  for (const [name, value] of Object.entries(counters)) {
    names[`#${name}`] = name;
    values[`:${name}`] = value;
    adds.push(`#${name} :${name}`);
  }
  const sets = Object.entries(lists).map(([name, value]) => {
    names[`#${name}`] = name;
    values[`:${name}`] = value;
    return `#${name} = list_append(#${name}, :${name})`;
  });
  try {
    await table.db.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName,
              Key: jobKeys.page(page.siteId, page.jobId, page.page),
              UpdateExpression: 'SET counted = :true',
              ConditionExpression: 'attribute_exists(pk) AND counted = :false',
              ExpressionAttributeValues: { ':true': true, ':false': false },
            },
          },
          {
            Update: {
              TableName,
              Key: jobKeys.job(page.siteId, page.jobId),
              UpdateExpression: `ADD ${adds.join(', ')}${sets.length ? ` SET ${sets.join(', ')}` : ''}`,
              ConditionExpression: 'attribute_exists(pk)',
              ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
              ExpressionAttributeValues: values,
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

/**
 * Moves a job's status: to `running` from `queued`, to `completed` once every page is counted, to `failed`
 * from either open status. A job already past that point is left alone (the write's condition).
 */
export async function transitionJob(
  table: Table,
  key: Key,
  to: 'running' | 'completed' | 'failed',
  at: string,
  error?: string,
): Promise<void> {
  const values: Record<string, unknown> = { ':to': to, ':at': at, ':queued': 'queued' };
  const names: Record<string, string> = { '#status': 'status' };
  let update = 'SET #status = :to, finishedAt = :at';
  let condition = '#status IN (:queued, :running)';
  if (to === 'running') {
    update = 'SET #status = :to, startedAt = :at';
    condition = '#status = :queued';
  } else {
    values[':running'] = 'running';
  }
  // Two attributes of the item compared in the condition: exact, whatever order pages were counted in.
  if (to === 'completed') condition = `pagesCounted = pageCount AND ${condition}`;
  if (to === 'failed') {
    update += ', #error = :error';
    names['#error'] = 'error';
    values[':error'] = error ?? 'failed';
  }
  try {
    await table.db.send(
      new UpdateCommand({
        TableName: table.name,
        Key: key,
        UpdateExpression: update,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  } catch (caught) {
    if (!cancellationReasons(caught)) throw caught;
  }
}
