import { startLocalRuntime } from './runtime.ts';

/**
 * `npm start`: DynamoDB Local + every route on http://localhost:3000, no AWS account needed.
 * PORT changes the port; DATA_DIR keeps data on disk across restarts.
 */
async function main() {
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number, got ${process.env.PORT}`);
  const started = Date.now();
  const runtime = await startLocalRuntime({
    port,
    host: process.env.HOST ?? '127.0.0.1',
    dataDir: process.env.DATA_DIR || undefined,
  });
  const base = runtime.url.replace('127.0.0.1', 'localhost');
  console.log(`membergate is listening on ${base} (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  console.log(
    `DynamoDB Local at ${runtime.dynamodbEndpoint}, table ${runtime.tableName}${process.env.DATA_DIR ? `, data in ${process.env.DATA_DIR}` : ', in memory'}`,
  );
  console.log('Try it:');
  console.log(
    `  curl -s -X POST ${base}/local/tokens -H 'content-type: application/json' -d '{"role":"admin","siteId":"site-1","email":"owner@example.com"}'`,
  );
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping membergate and DynamoDB Local`);
    await runtime.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
