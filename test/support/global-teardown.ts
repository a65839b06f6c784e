export default async function globalTeardown() {
  const dynamo = (globalThis as { __dynamo?: { stop(): Promise<void> } }).__dynamo;
  await dynamo?.stop();
}
