/**
 * `npm run bench`: measures the DESIGN §4 budgets in one self-contained run (its own DynamoDB Local, in
 * memory) and prints a table per section plus a summary. Budgets over the limit are reported as OVER but do
 * not fail the run; an error does (exit code 1). `npm run bench -- <section id>...` runs only those sections.
 */
import { accessLatency } from './access-latency.ts';
import { bulk } from './bulk.ts';
import { bundles } from './bundles.ts';
import { dynamodbCalls } from './dynamodb-calls.ts';
import { type BenchEnvironment, startBenchEnvironment } from './environment.ts';
import { events } from './events.ts';
import { lifecycle } from './lifecycle.ts';
import { type Budget, budgetTable, heading, renderTable, withinBudget } from './report.ts';
import type { Section } from './section.ts';
import { nsToMs } from './stats.ts';
import { timers } from './timers.ts';
import { upcoming } from './upcoming.ts';
import { webhooks } from './webhooks.ts';

/** In run order. Add a section here. */
const SECTIONS: Section[] = [
  accessLatency,
  dynamodbCalls,
  bundles,
  lifecycle,
  timers,
  webhooks,
  events,
  upcoming,
  bulk,
];

async function main(): Promise<number> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((id) => !SECTIONS.some((section) => section.id === id));
  if (unknown.length > 0) {
    console.error(`unknown section(s) ${unknown.join(', ')}; known: ${SECTIONS.map((s) => s.id).join(', ')}`);
    return 2;
  }
  const sections = wanted.length > 0 ? SECTIONS.filter((section) => wanted.includes(section.id)) : SECTIONS;
  const started = process.hrtime.bigint();
  console.log(
    `membergate bench — node ${process.version}, ${process.platform}/${process.arch}, ${new Date().toISOString()}`,
  );

  let env: BenchEnvironment | null = null;
  const stopEnvironment = async () => {
    const current = env;
    env = null;
    await current?.stop();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: stopping DynamoDB Local`);
    void stopEnvironment().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const budgets: Budget[] = [];
  const failures: string[] = [];
  try {
    if (sections.some((section) => section.needsDynamo)) {
      const t0 = process.hrtime.bigint();
      env = await startBenchEnvironment();
      console.log(
        `DynamoDB Local at ${env.endpoint}, table ${env.tableName}, seeded site ${env.fixture.siteId} ` +
          `(customer with ${env.fixture.purchaseIds.length} purchases) in ${(nsToMs(process.hrtime.bigint() - t0) / 1000).toFixed(1)} s`,
      );
    }
    for (const section of sections) {
      console.log(heading(section.title));
      const t0 = process.hrtime.bigint();
      try {
        const result = await section.run(section.needsDynamo ? env : null);
        for (const table of result.tables) console.log(`${renderTable(table)}\n`);
        if (result.budgets.length > 0) console.log(renderTable(budgetTable(result.budgets)));
        for (const note of result.notes ?? []) console.log(`  note: ${note}`);
        for (const error of result.errors ?? []) console.error(`  ERROR: ${error}`);
        if ((result.errors ?? []).length > 0) failures.push(section.id);
        budgets.push(...result.budgets);
      } catch (error) {
        failures.push(section.id);
        console.error(
          `  ERROR in ${section.id}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
      }
      console.log(`  (${(nsToMs(process.hrtime.bigint() - t0) / 1000).toFixed(1)} s)`);
    }
  } finally {
    await stopEnvironment();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  console.log(heading('Summary'));
  if (budgets.length > 0) console.log(renderTable(budgetTable(budgets)));
  const over = budgets.filter((budget) => !withinBudget(budget));
  console.log(
    `\n  ${budgets.length - over.length}/${budgets.length} budgets PASS, ${over.length} OVER` +
      `${failures.length > 0 ? `; sections that failed: ${failures.join(', ')}` : ''}` +
      `; total ${(nsToMs(process.hrtime.bigint() - started) / 1000).toFixed(1)} s`,
  );
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exitCode = 1;
  },
);
