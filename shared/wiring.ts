import { ulid } from 'ulid';
import { loadConfig } from './config.ts';
import { systemClock } from './domain/time.ts';
import { createDocumentClient } from './store/client.ts';
import { Store } from './store/store.ts';
import type { Dependencies } from './usecases/deps.ts';

export const newId = (prefix: string) => `${prefix}_${ulid().toLowerCase()}`;

/** The real adapters, built once per Lambda container from the environment. */
export function productionDependencies(): Dependencies {
  const config = loadConfig();
  const store = new Store(createDocumentClient({ endpoint: config.dynamodbEndpoint }), config.tableName);
  return { store, clock: systemClock, newId };
}
