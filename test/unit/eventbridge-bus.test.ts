import {
  EventBridgeClient,
  InternalException,
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import {
  EVENT_SOURCE,
  EventBridgeBus,
  entrySize,
  MAX_REQUEST_BYTES,
  type RetryPolicy,
  toBatches,
} from '../../shared/adapters/eventbridge-bus.ts';
import type { BusEvent } from '../../shared/ports/event-bus.ts';
import { anEvent } from '../support/events.ts';

const BUS = 'membergate-events';
const eventBridge = mockClient(EventBridgeClient);

/** No real waiting; the delays asked for are kept so a test can check the backoff. */
function bus(retry: Partial<RetryPolicy> = {}) {
  const delays: number[] = [];
  const adapter = new EventBridgeBus(
    new EventBridgeClient({ region: 'eu-west-1' }),
    { busName: BUS },
    {
      sleep: async (ms) => {
        delays.push(ms);
      },
      random: () => 0.5,
      ...retry,
    },
  );
  return { adapter, delays };
}

const ok = (index: number): PutEventsResultEntry => ({ EventId: `eb-${index}` });
const fail = (code = 'InternalFailure'): PutEventsResultEntry => ({ ErrorCode: code, ErrorMessage: `${code} here` });

/** The envelopes sent in each PutEvents call, as their ids. */
function sentIds(): string[][] {
  return eventBridge
    .commandCalls(PutEventsCommand)
    .map((call) => (call.args[0].input.Entries ?? []).map((entry) => JSON.parse(entry.Detail ?? '{}').id as string));
}

function events(count: number, detailsBytes = 0): BusEvent[] {
  return Array.from({ length: count }, (_, i) => anEvent(i + 1, {}, detailsBytes));
}

beforeEach(() => {
  eventBridge.reset();
});

describe('entry size, as EventBridge counts it', () => {
  it('is 14 bytes for Time plus the UTF-8 bytes of Source, DetailType, Detail and Resources', () => {
    const entry: PutEventsRequestEntry = {
      Time: new Date(),
      Source: 'membergate',
      DetailType: 'access.revoked',
      Detail: '{"name":"Zoë"}',
      Resources: ['arn:x', 'ü'],
      EventBusName: 'not counted',
    };
    expect(entrySize(entry)).toBe(14 + 10 + 14 + 15 + 5 + 2);
  });

  it('counts nothing for an absent Time or Detail', () => {
    expect(entrySize({ Source: 'a', DetailType: 'b' })).toBe(2);
  });
});

describe('batching', () => {
  it('puts at most 10 entries in one request', () => {
    const { batches } = toBatches(
      Array.from({ length: 23 }, (_, i) => i),
      () => 1,
    );
    expect(batches.map((batch) => batch.length)).toEqual([10, 10, 3]);
  });

  it('starts a new request when the next entry would pass 256 KB, and allows exactly 256 KB', () => {
    const { batches } = toBatches([100_000, 100_000, 62_144, 1, 262_144], (size) => size);
    expect(batches).toEqual([[100_000, 100_000, 62_144], [1], [262_144]]);
  });

  it('keeps apart an entry that alone is over 256 KB', () => {
    const { batches, tooLarge } = toBatches([10, MAX_REQUEST_BYTES + 1, 20], (size) => size);
    expect(batches).toEqual([[10, 20]]);
    expect(tooLarge).toEqual([MAX_REQUEST_BYTES + 1]);
  });

  it('sends 25 events as requests of 10, 10 and 5, in order', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map((_, i) => ok(i)),
    }));
    const sent = events(25);
    const { adapter } = bus();

    const result = await adapter.publish(sent);

    expect(result.failed).toEqual([]);
    expect(sentIds().map((ids) => ids.length)).toEqual([10, 10, 5]);
    expect(sentIds().flat()).toEqual(sent.map((event) => event.id));
  });

  it('splits by size: events of ~100 KB go at most two per request', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map((_, i) => ok(i)),
    }));
    const { adapter } = bus();

    await adapter.publish(events(5, 100_000));

    expect(sentIds().map((ids) => ids.length)).toEqual([2, 2, 1]);
    for (const call of eventBridge.commandCalls(PutEventsCommand)) {
      const total = (call.args[0].input.Entries ?? []).reduce((sum, entry) => sum + entrySize(entry), 0);
      expect(total).toBeLessThanOrEqual(MAX_REQUEST_BYTES);
    }
  });
});

describe('entries', () => {
  it('carries source membergate, detail-type = type, detail = the envelope, time = occurredAt, on the stack bus', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [ok(0)] });
    const [event] = events(1);
    const { adapter } = bus();

    await adapter.publish([event!]);

    const entry = eventBridge.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!;
    expect(entry).toEqual({
      EventBusName: BUS,
      Source: EVENT_SOURCE,
      DetailType: 'access.revoked',
      Detail: JSON.stringify(event),
      Time: new Date(event!.occurredAt),
    });
  });
});

describe('partial failures (a 200 with FailedEntryCount > 0)', () => {
  it('retries only the failed entries, then succeeds', async () => {
    const sent = events(4);
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 2, Entries: [ok(0), fail(), ok(2), fail('ThrottlingException')] })
      .resolvesOnce({ FailedEntryCount: 0, Entries: [ok(0), ok(1)] });
    const { adapter, delays } = bus();

    const result = await adapter.publish(sent);

    expect(result.failed).toEqual([]);
    expect(sentIds()).toEqual([sent.map((event) => event.id), [sent[1]!.id, sent[3]!.id]]);
    expect(delays).toHaveLength(1);
  });

  it('returns what still fails after the last attempt, with the bus reason', async () => {
    const sent = events(2);
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
      const entries = input.Entries.map((entry) =>
        JSON.parse(entry.Detail!).id === sent[0]!.id ? fail('InternalFailure') : ok(0),
      );
      return { FailedEntryCount: entries.filter((entry) => entry.ErrorCode).length, Entries: entries };
    });
    const { adapter, delays } = bus({ maxAttempts: 3 });

    const result = await adapter.publish(sent);

    expect(result.failed).toEqual([{ event: sent[0], reason: 'InternalFailure: InternalFailure here' }]);
    expect(sentIds()).toEqual([[sent[0]!.id, sent[1]!.id], [sent[0]!.id], [sent[0]!.id]]);
    expect(delays).toHaveLength(2);
  });

  it('returns a permanent failure at once, without retrying it', async () => {
    const sent = events(2);
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [ok(0), fail('MalformedDetail')] });
    const { adapter } = bus();

    const result = await adapter.publish(sent);

    expect(result.failed).toEqual([{ event: sent[1], reason: 'MalformedDetail: MalformedDetail here' }]);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(1);
  });

  it('treats a result without an event id as failed when the response reports failures', async () => {
    const sent = events(2);
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [ok(0), {}] })
      .resolvesOnce({ FailedEntryCount: 0, Entries: [ok(0)] });
    const { adapter } = bus();

    const result = await adapter.publish(sent);

    expect(result.failed).toEqual([]);
    expect(sentIds()[1]).toEqual([sent[1]!.id]);
  });

  it('returns an event too large for any request without calling EventBridge for it', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [ok(0)] });
    const [small, large] = [anEvent(1), anEvent(2, {}, MAX_REQUEST_BYTES)];
    const { adapter } = bus();

    const result = await adapter.publish([small!, large!]);

    expect(result.failed).toHaveLength(1);
    expect(result.failed[0]!.event).toBe(large);
    expect(result.failed[0]!.reason).toMatch(/^EntryTooLarge/);
    expect(sentIds()).toEqual([[small!.id]]);
  });
});

describe('whole-request failures', () => {
  it('retries a request that threw (service error) and succeeds', async () => {
    const sent = events(3);
    eventBridge
      .on(PutEventsCommand)
      .rejectsOnce(new InternalException({ message: 'boom', $metadata: {} }))
      .resolvesOnce({ FailedEntryCount: 0, Entries: [ok(0), ok(1), ok(2)] });
    const { adapter } = bus();

    const result = await adapter.publish(sent);

    expect(result.failed).toEqual([]);
    expect(sentIds()).toHaveLength(2);
  });

  it('returns every event of a request that kept failing', async () => {
    const sent = events(3);
    eventBridge.on(PutEventsCommand).rejects(new InternalException({ message: 'boom', $metadata: {} }));
    const { adapter } = bus({ maxAttempts: 2 });

    const result = await adapter.publish(sent);

    expect(result.failed.map((failure) => failure.event)).toEqual(sent);
    expect(result.failed[0]!.reason).toBe('InternalException: boom');
    expect(sentIds()).toHaveLength(2);
  });

  it('does not retry a request refused as a client error', async () => {
    const refused = Object.assign(new Error('Event bus nope does not exist.'), {
      name: 'ResourceNotFoundException',
      $fault: 'client',
    });
    eventBridge.on(PutEventsCommand).rejects(refused);
    const { adapter } = bus();

    const result = await adapter.publish(events(2));

    expect(result.failed).toHaveLength(2);
    expect(sentIds()).toHaveLength(1);
  });
});

describe('backoff', () => {
  it('grows exponentially with full jitter, capped', () => {
    const { adapter } = bus({ baseDelayMs: 100, maxDelayMs: 1_000, random: () => 0.999 });
    expect([1, 2, 3, 4, 5].map((attempt) => adapter.backoff(attempt))).toEqual([99, 199, 399, 799, 999]);
  });

  it('can be zero (full jitter draws from 0)', () => {
    const { adapter } = bus({ random: () => 0 });
    expect(adapter.backoff(3)).toBe(0);
  });
});
