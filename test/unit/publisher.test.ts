import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { createPublisherHandler } from '../../functions/publisher/app.ts';
import {
  fromAttributeValue,
  isOutboxInsert,
  MalformedOutboxRecordError,
  OUTBOX_STREAM_FILTER,
  outboxEvent,
} from '../../shared/store/outbox.ts';
import { anEvent, historyInsert, RecordingBus, streamRecord } from '../support/events.ts';

const seq = (n: number) => String(n).padStart(21, '0');

// Failures are provoked on purpose; their log lines would only be noise.
beforeEach(() => {
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterEach(() => {
  jest.restoreAllMocks();
});

/** Five history inserts, sequence numbers 1…5, events 1…5 of one purchase. */
function fiveInserts() {
  const events = [1, 2, 3, 4, 5].map((n) => anEvent(n));
  return { events, records: events.map((event, i) => historyInsert(seq(i + 1), event)) };
}

describe('the publisher', () => {
  it('publishes every history insert, in shard order, and reports nothing to redeliver', async () => {
    const bus = new RecordingBus();
    const { events, records } = fiveInserts();

    const response = await createPublisherHandler(bus)({ Records: records });

    expect(response).toEqual({ batchItemFailures: [] });
    expect(bus.received).toEqual(events);
  });

  it('ignores what is not a history insert: a modify, a remove, another entity, an image without entity', async () => {
    const bus = new RecordingBus();
    const event = anEvent(1);
    const records = [
      streamRecord(seq(1), 'MODIFY', { pk: 'p', sk: 'h', entity: 'history', event }),
      streamRecord(seq(2), 'REMOVE', { pk: 'p', sk: 'h', entity: 'history', event }),
      streamRecord(seq(3), 'INSERT', { pk: 'p', sk: 'purchase', entity: 'purchase' }),
      streamRecord(seq(4), 'INSERT', { pk: 'LOCAL#STREAM', sk: 'CHECKPOINT#x' }),
      { eventName: 'INSERT', dynamodb: { SequenceNumber: seq(5) } },
    ];

    const response = await createPublisherHandler(bus)({ Records: records });

    expect(response.batchItemFailures).toEqual([]);
    expect(bus.calls).toBe(0);
  });

  it('reports the first event the bus refused and every record after it', async () => {
    const bus = new RecordingBus();
    const { events, records } = fiveInserts();
    bus.failWith = () => new Map([[events[2]!.id, 'InternalFailure: try again']]);

    const response = await createPublisherHandler(bus)({ Records: records });

    expect(response.batchItemFailures).toEqual([seq(3), seq(4), seq(5)].map((itemIdentifier) => ({ itemIdentifier })));
  });

  it('counts from the earliest refusal when several events are refused', async () => {
    const bus = new RecordingBus();
    const { events, records } = fiveInserts();
    bus.failWith = () =>
      new Map([
        [events[3]!.id, 'x'],
        [events[1]!.id, 'y'],
      ]);

    const response = await createPublisherHandler(bus)({ Records: records });

    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual([
      seq(2),
      seq(3),
      seq(4),
      seq(5),
    ]);
  });

  it('reports the whole batch from its first event when the bus throws, acknowledging ignored records before it', async () => {
    const bus = new RecordingBus();
    bus.failWith = () => 'throw';
    const records = [
      streamRecord(seq(1), 'INSERT', { pk: 'p', sk: 'purchase', entity: 'purchase' }),
      historyInsert(seq(2), anEvent(1)),
      streamRecord(seq(3), 'MODIFY', { pk: 'p', sk: 'purchase', entity: 'purchase' }),
    ];

    const response = await createPublisherHandler(bus)({ Records: records });

    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual([seq(2), seq(3)]);
  });

  it('stops at a history insert without an envelope: what precedes it is published, it and the rest redelivered', async () => {
    const bus = new RecordingBus();
    const [first, third] = [anEvent(1), anEvent(3)];
    const records = [
      historyInsert(seq(1), first),
      streamRecord(seq(2), 'INSERT', { pk: 'p', sk: 'h2', entity: 'history', event: { id: 'no-type' } }),
      historyInsert(seq(3), third),
    ];

    const response = await createPublisherHandler(bus)({ Records: records });

    expect(bus.received).toEqual([first]);
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual([seq(2), seq(3)]);
  });

  it('publishes the same ids again on redelivery (at least once, consumers deduplicate by id)', async () => {
    const bus = new RecordingBus();
    const { events, records } = fiveInserts();
    bus.failWith = (_, call) => (call === 1 ? new Map([[events[1]!.id, 'InternalFailure']]) : new Map());
    const handler = createPublisherHandler(bus);

    const first = await handler({ Records: records });
    const redelivered = new Set(first.batchItemFailures.map((failure) => failure.itemIdentifier));
    await handler({ Records: records.filter((record) => redelivered.has(record.dynamodb!.SequenceNumber!)) });

    expect([...bus.counts().keys()].sort()).toEqual(events.map((event) => event.id).sort());
    expect(Math.max(...bus.counts().values())).toBe(2);
  });

  it('answers an empty batch with no failures', async () => {
    const bus = new RecordingBus();
    expect(await createPublisherHandler(bus)({ Records: [] })).toEqual({ batchItemFailures: [] });
    expect(bus.calls).toBe(0);
  });
});

describe('the outbox filter', () => {
  it('selects inserts of history items only', () => {
    expect(isOutboxInsert(historyInsert(seq(1), anEvent(1)))).toBe(true);
    expect(isOutboxInsert(streamRecord(seq(1), 'MODIFY', { entity: 'history' }))).toBe(false);
    expect(isOutboxInsert(streamRecord(seq(1), 'INSERT', { entity: 'purchase' }))).toBe(false);
    expect(isOutboxInsert(streamRecord(seq(1), 'INSERT', { entity: 7 }))).toBe(false);
    expect(isOutboxInsert({})).toBe(false);
  });

  it('is the pattern Lambda filters with (eventName INSERT, NewImage.entity.S history)', () => {
    expect(OUTBOX_STREAM_FILTER).toEqual({
      eventName: ['INSERT'],
      dynamodb: { NewImage: { entity: { S: ['history'] } } },
    });
  });
});

describe('reading the envelope from a stream image', () => {
  it('gives back exactly the event that was written', () => {
    const event = anEvent(7);
    expect(outboxEvent(historyInsert(seq(1), event))).toEqual(event);
  });

  it('refuses a history image without an envelope', () => {
    expect(() => outboxEvent(streamRecord(seq(1), 'INSERT', { entity: 'history' }))).toThrow(
      MalformedOutboxRecordError,
    );
    expect(() =>
      outboxEvent(streamRecord(seq(1), 'INSERT', { entity: 'history', event: { ...anEvent(1), sequence: 1.5 } })),
    ).toThrow(MalformedOutboxRecordError);
  });

  it('decodes every attribute type, edge values included', () => {
    expect(fromAttributeValue({ N: '0' })).toBe(0);
    expect(fromAttributeValue({ N: '-1.5' })).toBe(-1.5);
    expect(fromAttributeValue({ N: '9007199254740991' })).toBe(Number.MAX_SAFE_INTEGER);
    expect(fromAttributeValue({ S: '' })).toBe('');
    expect(fromAttributeValue({ BOOL: false })).toBe(false);
    expect(fromAttributeValue({ NULL: true })).toBeNull();
    expect(fromAttributeValue({ M: {} })).toEqual({});
    expect(fromAttributeValue({ L: [] })).toEqual([]);
    expect(fromAttributeValue({ L: [{ M: { a: { L: [{ NULL: true }, { N: '1' }] } } }] })).toEqual([{ a: [null, 1] }]);
    expect(fromAttributeValue({ SS: ['a', 'b'] })).toEqual(['a', 'b']);
    expect(fromAttributeValue({ NS: ['1', '2.5'] })).toEqual([1, 2.5]);
    expect(Buffer.from(fromAttributeValue({ B: 'aGk=' }) as Uint8Array).toString()).toBe('hi');
    expect(fromAttributeValue({ B: new Uint8Array([1, 2]) })).toEqual(new Uint8Array([1, 2]));
    // DynamoDB Local's stream shows an empty map as a value with no type.
    expect(fromAttributeValue({ M: { details: {} } })).toEqual({ details: {} });
    expect(() => fromAttributeValue({ X: 'y' } as never)).toThrow(MalformedOutboxRecordError);
    expect(() => fromAttributeValue({ M: { a: { L: [{ X: 'y' } as never] } } }, 'event')).toThrow(
      'unknown attribute value type at event.a[0]: {"X":"y"}',
    );
  });
});
