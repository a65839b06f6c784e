import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Instant } from '../domain/types.ts';
import {
  DELIVERY_RETENTION_DAYS,
  type DeliveryAttempt,
  type DeliveryJob,
  type WebhookEndpoint,
} from '../domain/webhook-endpoints.ts';
import type { Page } from '../ports/purchases.ts';
import type { EndpointPatch, WebhookStore } from '../ports/webhook-endpoints.ts';
import { keys } from './keys.ts';
import { queryPage } from './pagination.ts';
import { type Item, strip, type Table, type TransactItem } from './table.ts';

/** Jobs and their log expire (table TTL) this long after the job was created; a job lives 32 h at most. */
const ttlOf = (createdAt: Instant) => Math.floor(Date.parse(createdAt) / 1000) + DELIVERY_RETENTION_DAYS * 86_400;

const jobItem = (job: DeliveryJob): Item => ({
  ...keys.deliveryJob(job.siteId, job.endpointId, job.eventId),
  entity: 'webhookDeliveryJob',
  ...job,
  ttl: ttlOf(job.createdAt),
});

const attemptKey = (row: DeliveryAttempt) =>
  keys.deliveryAttempt(row.siteId, row.endpointId, row.scheduledFor, row.eventId, row.attempt);

const attemptItem = (row: DeliveryAttempt, createdAt: Instant): Item => ({
  ...attemptKey(row),
  entity: 'webhookDeliveryAttempt',
  ...row,
  ttl: ttlOf(createdAt),
});

/**
 * DynamoDB implementation of WebhookStore. Endpoints sit in the site's partition; each endpoint's jobs and
 * delivery log in a partition of its own (keys.ts). Every transition is a conditional write whose condition
 * names the state it moves from: a job is created once per (event, endpoint), claimed by one worker per
 * attempt, and recorded only by the worker that holds its lease.
 */
export class DynamoWebhookStore implements WebhookStore {
  constructor(private readonly table: Table) {}

  async getEndpoint(siteId: string, endpointId: string): Promise<WebhookEndpoint | null> {
    return endpointOf(await this.table.get(keys.webhookEndpoint(siteId, endpointId)));
  }

  async listEndpoints(siteId: string): Promise<WebhookEndpoint[]> {
    const found = await this.table.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.site(siteId), ':prefix': keys.webhookEndpointPrefix },
      ConsistentRead: true,
    });
    return found.map((item) => endpointOf(item)!);
  }

  async listEndpointsPage(siteId: string, limit: number, cursor: string | null): Promise<Page<WebhookEndpoint>> {
    const page = await queryPage<Item>(
      this.table,
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.site(siteId), ':prefix': keys.webhookEndpointPrefix },
        ConsistentRead: true,
      },
      limit,
      cursor,
    );
    return { items: page.items.map((item) => endpointOf(item)!), nextCursor: page.nextCursor };
  }

  async countEndpoints(siteId: string): Promise<number> {
    const result = await this.table.db.send(
      new QueryCommand({
        TableName: this.table.name,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.site(siteId), ':prefix': keys.webhookEndpointPrefix },
        Select: 'COUNT',
        ConsistentRead: true,
      }),
    );
    return result.Count ?? 0;
  }

  async createEndpoint(endpoint: WebhookEndpoint, maxPerSite: number): Promise<'created' | 'exists' | 'full'> {
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.table.name,
          Item: {
            ...keys.webhookEndpoint(endpoint.siteId, endpoint.endpointId),
            entity: 'webhookEndpoint',
            ...endpoint,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      {
        // The site's count, raised in the same transaction and only below the cap: a count is what a condition
        // can see, where "how many endpoint items exist" is not.
        Update: {
          TableName: this.table.name,
          Key: keys.webhookEndpointCount(endpoint.siteId),
          UpdateExpression: 'SET entity = :entity ADD #count :one',
          ConditionExpression: 'attribute_not_exists(#count) OR #count < :max',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':entity': 'webhookEndpointCount', ':one': 1, ':max': maxPerSite },
        },
      },
    ];
    const refused = await this.table.transact(items);
    return refused === null ? 'created' : refused === 0 ? 'exists' : 'full';
  }

  async updateEndpoint(
    siteId: string,
    endpointId: string,
    patch: EndpointPatch,
    disabledReason: string,
  ): Promise<WebhookEndpoint | null> {
    const key = keys.webhookEndpoint(siteId, endpointId);
    const fields: Record<string, unknown> = { url: patch.url, updatedAt: patch.at };
    if (patch.eventTypes !== undefined) fields.eventTypes = patch.eventTypes;
    if (patch.enabled === true) {
      const enable = setExpression({ ...fields, enabled: true, disabledReason: null, disabledAt: null });
      return this.updateExisting(key, `${enable.expression} REMOVE disabledBy`, enable.names, enable.values);
    }
    if (patch.enabled === false) {
      // Disabling an enabled endpoint records why and when; an endpoint already disabled keeps its first reason.
      const disable = setExpression({ ...fields, enabled: false, disabledReason, disabledAt: patch.at });
      const changed = await this.updateExisting(
        key,
        disable.expression,
        disable.names,
        disable.values,
        'enabled = :true',
      );
      if (changed) return changed;
    }
    const plain = setExpression(fields);
    return this.updateExisting(key, plain.expression, plain.names, plain.values);
  }

  async deleteEndpoint(siteId: string, endpointId: string): Promise<boolean> {
    const items: TransactItem[] = [
      {
        Delete: {
          TableName: this.table.name,
          Key: keys.webhookEndpoint(siteId, endpointId),
          ConditionExpression: 'attribute_exists(pk)',
        },
      },
      {
        // Never below zero: endpoints written before the count existed were never counted.
        Update: {
          TableName: this.table.name,
          Key: keys.webhookEndpointCount(siteId),
          UpdateExpression: 'ADD #count :minusOne',
          ConditionExpression: 'attribute_exists(#count) AND #count > :zero',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0 },
        },
      },
    ];
    const refused = await this.table.transact(items);
    if (refused === 0) return false;
    if (refused === 1) {
      return this.conditional(
        new DeleteCommand({
          TableName: this.table.name,
          Key: keys.webhookEndpoint(siteId, endpointId),
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
    }
    return true;
  }

  rotateSecret(
    siteId: string,
    endpointId: string,
    secret: string,
    previousExpiresAt: Instant,
    at: Instant,
  ): Promise<WebhookEndpoint | null> {
    return this.updateExisting(
      keys.webhookEndpoint(siteId, endpointId),
      'SET previousSecret = secret, secret = :secret, previousSecretExpiresAt = :expires, secretRotatedAt = :at, updatedAt = :at',
      {},
      { ':secret': secret, ':expires': previousExpiresAt, ':at': at },
    );
  }

  async disableEndpoint(
    siteId: string,
    endpointId: string,
    reason: string,
    causeEventId: string,
    at: Instant,
  ): Promise<{ endpoint: WebhookEndpoint; disabled: boolean } | null> {
    const key = keys.webhookEndpoint(siteId, endpointId);
    try {
      const result = await this.table.db.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: key,
          UpdateExpression:
            'SET enabled = :false, disabledReason = :reason, disabledAt = :at, disabledBy = :cause, updatedAt = :at',
          // Enabled, or already disabled by this same job (a retried announcement).
          ConditionExpression: 'attribute_exists(pk) AND (enabled = :true OR disabledBy = :cause)',
          ExpressionAttributeValues: {
            ':false': false,
            ':true': true,
            ':reason': reason,
            ':at': at,
            ':cause': causeEventId,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { endpoint: endpointOf(result.Attributes)!, disabled: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = endpointOf(await this.table.get(key));
      return current ? { endpoint: current, disabled: false } : null;
    }
  }

  async createJob(job: DeliveryJob, first: DeliveryAttempt): Promise<boolean> {
    const items: TransactItem[] = [
      { Put: { TableName: this.table.name, Item: jobItem(job), ConditionExpression: 'attribute_not_exists(pk)' } },
      { Put: { TableName: this.table.name, Item: attemptItem(first, job.createdAt) } },
    ];
    return (await this.table.transact(items)) === null;
  }

  async getJob(siteId: string, endpointId: string, eventId: string): Promise<DeliveryJob | null> {
    return strip<DeliveryJob>(await this.table.get(keys.deliveryJob(siteId, endpointId, eventId)));
  }

  markQueued(siteId: string, endpointId: string, eventId: string, attempt: number): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.deliveryJob(siteId, endpointId, eventId),
        UpdateExpression: 'SET queuedAttempt = :attempt',
        ConditionExpression: 'attribute_exists(pk) AND queuedAttempt < :attempt',
        ExpressionAttributeValues: { ':attempt': attempt },
      }),
    );
  }

  claimJob(
    siteId: string,
    endpointId: string,
    eventId: string,
    attempt: number,
    leaseUntil: Instant,
    now: Instant,
  ): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.deliveryJob(siteId, endpointId, eventId),
        UpdateExpression: 'SET leaseUntil = :lease',
        ConditionExpression:
          '#status = :pending AND attempts = :done AND (leaseUntil = :null OR attribute_not_exists(leaseUntil) OR leaseUntil <= :now)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':pending': 'pending',
          ':done': attempt - 1,
          ':lease': leaseUntil,
          ':null': null,
          ':now': now,
        },
      }),
    );
  }

  async recordAttempt(
    job: DeliveryJob,
    leaseUntil: Instant,
    done: DeliveryAttempt,
    next: DeliveryAttempt | null,
  ): Promise<boolean> {
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.table.name,
          Item: jobItem(job),
          ConditionExpression: 'leaseUntil = :lease AND attempts = :before',
          ExpressionAttributeValues: { ':lease': leaseUntil, ':before': done.attempt - 1 },
        },
      },
      { Put: { TableName: this.table.name, Item: attemptItem(done, job.createdAt) } },
    ];
    if (next) items.push({ Put: { TableName: this.table.name, Item: attemptItem(next, job.createdAt) } });
    return (await this.table.transact(items)) === null;
  }

  async markAnnounced(siteId: string, endpointId: string, eventId: string): Promise<void> {
    await this.table.db.send(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.deliveryJob(siteId, endpointId, eventId),
        UpdateExpression: 'SET announced = :true',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':true': true },
      }),
    );
  }

  listAttempts(
    siteId: string,
    endpointId: string,
    limit: number,
    cursor: string | null,
  ): Promise<Page<DeliveryAttempt>> {
    return queryPage<DeliveryAttempt>(
      this.table,
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: {
          ':pk': keys.webhookPartition(siteId, endpointId),
          ':prefix': keys.deliveryLogPrefix,
        },
        ScanIndexForward: false,
        ConsistentRead: true,
      },
      limit,
      cursor,
    );
  }

  /** Runs a conditional write: false when its condition did not hold. */
  private async conditional(command: PutCommand | UpdateCommand | DeleteCommand): Promise<boolean> {
    try {
      await this.table.db.send(command as UpdateCommand);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** An UpdateItem on an item that must exist: the item after it, or null when there was none. */
  private async updateExisting(
    key: { pk: string; sk: string },
    expression: string,
    names: Record<string, string>,
    values: Item,
    extraCondition?: string,
  ): Promise<WebhookEndpoint | null> {
    try {
      const result = await this.table.db.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: key,
          UpdateExpression: expression,
          ConditionExpression: `attribute_exists(pk)${extraCondition ? ` AND ${extraCondition}` : ''}`,
          ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: extraCondition?.includes(':true') ? { ...values, ':true': true } : values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return endpointOf(result.Attributes);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return null;
      throw error;
    }
  }
}

/** `SET a = :v0, b = :v1…` for the given fields, with its names and values. */
function setExpression(fields: Record<string, unknown>): {
  expression: string;
  names: Record<string, string>;
  values: Item;
} {
  const names: Record<string, string> = {};
  const values: Item = {};
  const assignments = Object.entries(fields).map(([name, value], i) => {
    names[`#f${i}`] = name;
    values[`:v${i}`] = value;
    return `#f${i} = :v${i}`;
  });
  return { expression: `SET ${assignments.join(', ')}`, names, values };
}

/** The endpoint an item holds, without the bookkeeping attribute `disabledBy`. */
function endpointOf(item: Item | undefined): WebhookEndpoint | null {
  const endpoint = strip<WebhookEndpoint & { disabledBy?: string }>(item);
  if (!endpoint) return null;
  const { disabledBy: _disabledBy, ...rest } = endpoint;
  return rest;
}
