import type { BenchEnvironment } from './environment.ts';
import type { Budget, Table } from './report.ts';

/**
 * One part of `npm run bench`. To add one: write a module exporting a `Section`, and list it in
 * `SECTIONS` in bench/run.ts. `needsDynamo` sections get the shared environment (DynamoDB Local, seeded
 * site, counted client, handlers); the others get `null` and DynamoDB Local is not started for them.
 */
export interface Section {
  /** Short id, used to pick sections: `npm run bench -- access-latency bundles`. */
  id: string;
  title: string;
  needsDynamo: boolean;
  run(env: BenchEnvironment | null): Promise<SectionResult>;
}

export interface SectionResult {
  tables: Table[];
  budgets: Budget[];
  /** Extra lines printed under the tables: how it was measured, caveats. */
  notes?: string[];
  /** Problems that kept part of the section from being measured; the run then exits non-zero. */
  errors?: string[];
}

/** For sections that declared `needsDynamo`. */
export function requireEnvironment(env: BenchEnvironment | null, section: string): BenchEnvironment {
  if (!env) throw new Error(`section ${section} needs the DynamoDB environment`);
  return env;
}
