import { AsyncLocalStorage } from 'node:async_hooks';
import type { LocalRuntime } from '../../../infra/local/runtime.ts';
import type { TimerPurpose } from '../../../shared/domain/billing.ts';
import { timerName } from '../../../shared/ports/scheduler.ts';

/**
 * Records every write the runtime makes to DynamoDB (after it succeeded), with the site it belongs to, so
 * the fuzz can check that a rejected request wrote nothing. Writes are attributed to requests by site: each
 * lane sends one request at a time to its own site, so a write to that site while the lane's request is in
 * flight is that request's. Timers firing are the system's own writes and are told apart by an
 * AsyncLocalStorage context around the local scheduler's `fire`.
 */
export interface WriteRecord {
  command: string;
  /** The site each written item belongs to (`SITE#<id>…` keys, timers by their purchase), or null. */
  sites: string[];
  /** Processor subscription / event ids written (PROCESSOR# keys). */
  processorIds: string[];
  keys: string[];
  /** Instants written outside the four-digit years that string comparison of ISO instants relies on. */
  badInstants: string[];
  system: boolean;
}

/** `+200000-01-01T…`, `-000100-…`: what `toISOString()` makes of years outside 0000–9999. */
const OUT_OF_RANGE_INSTANT = /^[+-]\d{6}-\d{2}-\d{2}T/;

/** Attribute names that hold instants: `createdAt`, `currentPeriodEnd`, `at`, `dueAt`… (not ids that look like one). */
const INSTANT_NAME = /(At|Start|End|^at|Time|Date)$/;

function badInstantsIn(value: unknown, found: string[] = []): string[] {
  const stack: [string, unknown][] = [['', value]];
  while (stack.length > 0 && found.length < 5) {
    const [name, item] = stack.pop()!;
    // Marshalled (`{S: "…"}`) or plain, depending on where in the SDK stack the write is seen.
    const textValue = typeof item === 'string' ? item : text(item);
    if (textValue !== null) {
      if (INSTANT_NAME.test(name) && OUT_OF_RANGE_INSTANT.test(textValue)) found.push(textValue);
    } else if (typeof item === 'object' && item !== null) {
      const isWrapper = !Array.isArray(item) && Object.keys(item).length === 1 && ('M' in item || 'L' in item);
      for (const [key, child] of Object.entries(item))
        stack.push([isWrapper || Array.isArray(item) ? name : key, child]);
    }
  }
  return found;
}

interface Flight {
  sites: Set<string>;
  body: string;
  writes: WriteRecord[];
}

const TIMER_PURPOSES: TimerPurpose[] = ['cancellation', 'access_period', 'pause_end'];

function text(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && 'S' in value && typeof value.S === 'string') return value.S;
  return null;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

/** The items a write command touches: `{key, item}` for Put / Update / Delete, inside transactions too. */
function writtenItems(command: string, input: Record<string, unknown>): Record<string, unknown>[] {
  switch (command) {
    case 'PutCommand':
    case 'PutItemCommand':
      return [record(input.Item)];
    case 'UpdateCommand':
    case 'UpdateItemCommand':
    case 'DeleteCommand':
    case 'DeleteItemCommand':
      return [record(input.Key)];
    case 'TransactWriteCommand':
    case 'TransactWriteItemsCommand': {
      const items = Array.isArray(input.TransactItems) ? input.TransactItems : [];
      return items.flatMap((item) => {
        const entry = record(item);
        if (entry.Put) return [record(record(entry.Put).Item)];
        if (entry.Update) return [record(record(entry.Update).Key)];
        if (entry.Delete) return [record(record(entry.Delete).Key)];
        return []; // ConditionCheck writes nothing
      });
    }
    case 'BatchWriteCommand':
    case 'BatchWriteItemCommand': {
      const tables = Object.values(record(input.RequestItems));
      return tables.flatMap((requests) =>
        (Array.isArray(requests) ? requests : []).map((request) => {
          const entry = record(request);
          return entry.PutRequest ? record(record(entry.PutRequest).Item) : record(record(entry.DeleteRequest).Key);
        }),
      );
    }
    default:
      return [];
  }
}

export class WriteMonitor {
  readonly system = new AsyncLocalStorage<true>();
  private readonly inFlight = new Set<Flight>();
  /** Timer name → site, for the local scheduler's deletes (its keys hold only a hash). */
  private readonly timerSites = new Map<string, string>();
  total = 0;
  unattributed = 0;

  /** Hooks the runtime's DynamoDB client and its local scheduler. */
  attach(runtime: LocalRuntime) {
    const db = runtime.documentClient;
    db.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        this.observe(context.commandName ?? 'unknown', record(args.input));
        return result;
      },
      { step: 'initialize', name: 'fuzzWriteMonitor' },
    );
    // Timers fire from setTimeout callbacks armed inside a request; mark their writes as the system's.
    const scheduler = runtime.scheduler as unknown as { fire: (...args: unknown[]) => Promise<void> };
    const fire = scheduler.fire.bind(runtime.scheduler);
    scheduler.fire = (...args: unknown[]) => this.system.run(true, () => fire(...args));
  }

  /** Remembers a purchase's timer names, so that deleting one of its timers is attributed to its site. */
  knowPurchase(siteId: string, purchaseId: string) {
    for (const purpose of TIMER_PURPOSES) this.timerSites.set(timerName({ siteId, purchaseId, purpose }), siteId);
  }

  /** Counts only what the fuzz itself causes, not the seeding. */
  resetCounts() {
    this.total = 0;
    this.unattributed = 0;
  }

  begin(sites: Set<string>, body: string | undefined): Flight {
    const flight: Flight = { sites, body: body ?? '', writes: [] };
    this.inFlight.add(flight);
    return flight;
  }

  end(flight: Flight): WriteRecord[] {
    this.inFlight.delete(flight);
    return flight.writes;
  }

  private observe(command: string, input: Record<string, unknown>) {
    const items = writtenItems(command, input);
    if (items.length === 0) return;
    // Whole items (Put) and update values: the keys are not enough to see what a write stores.
    const badInstants = badInstantsIn([input.Item, input.TransactItems, input.ExpressionAttributeValues]);
    this.total++;
    const sites = new Set<string>();
    const processorIds: string[] = [];
    const keys: string[] = [];
    for (const item of items) {
      const pk = text(item.pk) ?? '';
      const sk = text(item.sk) ?? '';
      keys.push(`${pk} ${sk}`);
      const site = /^SITE#([^#]+)/.exec(pk)?.[1];
      if (site) sites.add(site);
      const processor = /^PROCESSOR#[^#]+#(?:SUB|EVENT)#(.*)$/s.exec(pk)?.[1];
      if (processor !== undefined) processorIds.push(processor);
      if (pk === 'LOCAL#SCHEDULER') {
        const timerSite = text(record(item.timer).siteId) ?? text(record(record(item.timer).M).siteId);
        const named = this.timerSites.get(sk.replace(/^SCHEDULE#/, ''));
        if (timerSite) sites.add(timerSite);
        else if (named) sites.add(named);
      }
    }
    const write: WriteRecord = {
      command,
      sites: [...sites],
      processorIds,
      keys,
      badInstants,
      system: this.system.getStore() === true,
    };
    if (write.system) return;
    let attributed = false;
    for (const flight of this.inFlight) {
      const mine =
        write.sites.some((site) => flight.sites.has(site)) ||
        // As a JSON string in the body: `"evt_…"`, so that an id like `true` does not match every body.
        write.processorIds.some((id) => flight.body.includes(JSON.stringify(id)));
      if (mine) {
        flight.writes.push(write);
        attributed = true;
      }
    }
    if (!attributed) this.unattributed++;
  }
}
