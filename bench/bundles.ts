import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { ENTRY_NAME, functionBuildOptions } from '../infra/constructs/bundling.ts';
import { type Budget, fmt } from './report.ts';
import type { Section } from './section.ts';
import { medianOfSorted } from './stats.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SPAWNS = 7;
const MAX_BUNDLE_BYTES = 1_000_000;
/** Tighter than DESIGN §4's 2×: the cold-start target the functions are held to. */
const MAX_INIT_RATIO = 1.5;

/** The ESM banner: lets bundled CommonJS dependencies `require` Node built-ins. */
const ESM_REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/** The yardstick: a bundle that only imports the DynamoDB client and creates one. */
const BASELINE_SOURCE = `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
export const client = new DynamoDBClient({});
`;

/**
 * The yardstick's build, unchanged since the budget was set: one minified ESM file, so that its time is a
 * fixed measure of the machine's speed across runs and commits.
 */
const BASELINE_OPTIONS: BuildOptions = {
  bundle: true,
  minify: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  mainFields: ['module', 'main'],
  banner: { js: ESM_REQUIRE_BANNER },
  logLevel: 'silent',
  absWorkingDir: ROOT,
};

/**
 * Spawned once per measurement: a fresh Node process that times `await import(bundle)`, i.e. module
 * loading (the entry and the chunks it imports statically) plus the handler's top-level code (config, SDK
 * client, handler construction), as a cold start does before the first event.
 */
const PROBE_SOURCE = `const start = process.hrtime.bigint();
const loaded = await import(process.argv[2]);
const importNs = process.hrtime.bigint() - start;
if (process.argv[3] === 'handler' && typeof loaded.handler !== 'function') {
  throw new Error('the bundle exports no handler function');
}
process.stdout.write(JSON.stringify({ importNs: String(importNs) }));
`;

/**
 * The variables the stack sets on functions (placeholders: nothing is called at init). Config reads them at
 * cold start and stops with the variable's name when one is missing; add new ones here. No
 * PROCESSOR_SECRET_ARN: functions read the secret on their first invocation, never at init.
 */
const FUNCTION_ENV: Record<string, string> = {
  TABLE_NAME: 'x',
  SCHEDULE_GROUP: 'membergate-timers',
  TIMER_FUNCTION_ARN: 'arn:aws:lambda:eu-west-1:123456789012:function:membergate-timer',
  SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/membergate-scheduler',
  TIMER_DLQ_ARN: 'arn:aws:sqs:eu-west-1:123456789012:membergate-timer-dlq',
  EVENT_BUS_NAME: 'membergate-events',
  DELIVERY_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/membergate-delivery',
  JOB_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/membergate-jobs',
  RECONCILIATION_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/membergate-reconciliations',
  LOG_LEVEL: 'INFO',
  AWS_REGION: 'eu-west-1',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

interface Bundle {
  /** A function's folder name; `baseline` and `baseline (split)` for the yardsticks. */
  name: string;
  kind: 'function' | 'baseline' | 'reference';
  /** The file to import: the entry. */
  file: string;
  /** Every JavaScript file of the code package, chunks included. */
  bytes: number;
  /** The entry and the chunks it imports statically: what a cold start reads and parses. */
  initialBytes: number;
}

/**
 * DESIGN §4: each function's minified code ≤ 1 MB, and its cold init ≤ 1.5× (DESIGN: 2×) that of a bundle
 * that only imports the DynamoDB client, in the same run.
 */
export const bundles: Section = {
  id: 'bundles',
  title: `c. Bundle size and cold init (esbuild, minified ESM as the stack splits it; cold init = median of ${SPAWNS} fresh node processes)`,
  needsDynamo: false,
  async run() {
    const outDir = mkdtempSync(join(tmpdir(), 'membergate-bench-'));
    try {
      const built = await buildAll(outDir);
      const probe = join(outDir, 'probe.mjs');
      writeFileSync(probe, PROBE_SOURCE);
      const { results: init, failures } = await measureColdInit(probe, built);
      const baseline = init.get('baseline');
      if (!baseline) throw new Error(`the baseline bundle does not import: ${failures.get('baseline')}`);

      const functions = built.filter((b) => b.kind === 'function');
      const budgets: Budget[] = functions.map((bundle) => ({
        name: `${bundle.name}: bundle size`,
        measured: bundle.bytes,
        limit: MAX_BUNDLE_BYTES,
        format: fmt.kb,
      }));
      for (const bundle of functions) {
        const measured = init.get(bundle.name);
        if (!measured) continue;
        budgets.push({
          name: `${bundle.name}: cold init / baseline`,
          measured: measured.importMs / baseline.importMs,
          limit: MAX_INIT_RATIO,
          format: fmt.ratio,
        });
      }
      return {
        tables: [
          {
            headers: [
              'bundle',
              'size',
              'loaded at init',
              'import (median)',
              'min',
              'max',
              'process (median)',
              'init / baseline',
            ],
            rows: built.map((bundle) => {
              const label =
                bundle.kind === 'function'
                  ? `functions/${bundle.name}`
                  : bundle.kind === 'baseline'
                    ? 'baseline (DynamoDBClient only, one file)'
                    : 'reference: the same, split';
              const m = init.get(bundle.name);
              const sizes = [fmt.kb(bundle.bytes), fmt.kb(bundle.initialBytes)];
              if (!m) return [label, ...sizes, 'import failed', '', '', '', ''];
              return [
                label,
                ...sizes,
                fmt.ms(m.importMs),
                fmt.ms(m.minMs),
                fmt.ms(m.maxMs),
                fmt.ms(m.processMs),
                fmt.ratio(m.importMs / baseline.importMs),
              ];
            }),
          },
        ],
        budgets,
        errors: [...failures.values()],
        notes: [
          `import = time to \`await import()\` the entry in a fresh node ${process.version}, with placeholder values for the stack's env vars;`,
          "functions are built with the stack's own options (infra/constructs/bundling.ts, minus source maps): split, so what only some",
          "requests load (Stripe SDK, Scheduler, Secrets Manager, the SDK's rarely used credential providers) is neither read nor parsed",
          'at init. The baseline stays one file, the yardstick the budget was set against; the reference row builds it split, for comparison.',
          'process = spawn to exit, including Node start-up (informational). Spawns run one at a time, round-robin.',
        ],
      };
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  },
};

/** Every functions/<name>/handler.ts as the stack bundles it, plus the baseline and its split reference. */
async function buildAll(outDir: string): Promise<Bundle[]> {
  const functionsDir = join(ROOT, 'functions');
  const names = readdirSync(functionsDir)
    .filter((name) => existsSync(join(functionsDir, name, 'handler.ts')))
    .sort();
  const bundlesBuilt: Bundle[] = [];
  for (const name of names) {
    const outdir = join(outDir, name);
    const result = await build({
      ...functionBuildOptions(join(functionsDir, name, 'handler.ts'), outdir),
      sourcemap: false,
      logLevel: 'silent',
      metafile: true,
    });
    bundlesBuilt.push({ name, kind: 'function', ...measureOutput(result.metafile, entryFile(outdir)) });
  }
  const baselineInput = {
    contents: BASELINE_SOURCE,
    resolveDir: ROOT,
    sourcefile: 'baseline.ts',
    loader: 'ts',
  } as const;
  const baseline = join(outDir, 'baseline.mjs');
  const single = await build({ ...BASELINE_OPTIONS, stdin: baselineInput, outfile: baseline, metafile: true });
  bundlesBuilt.push({ name: 'baseline', kind: 'baseline', ...measureOutput(single.metafile, baseline) });
  const splitDir = join(outDir, 'baseline-split');
  const split = await build({
    ...functionBuildOptions(join(ROOT, 'baseline.ts'), splitDir),
    entryPoints: undefined,
    stdin: baselineInput,
    entryNames: ENTRY_NAME,
    sourcemap: false,
    logLevel: 'silent',
    metafile: true,
  });
  bundlesBuilt.push({
    name: 'baseline (split)',
    kind: 'reference',
    ...measureOutput(split.metafile, entryFile(splitDir)),
  });
  return bundlesBuilt;
}

const entryFile = (outdir: string) => join(outdir, `${ENTRY_NAME}.mjs`);

/** The package's size, and what its entry `file` loads statically. */
function measureOutput(metafile: Metafile, file: string): Pick<Bundle, 'file' | 'bytes' | 'initialBytes'> {
  const outputs = metafile.outputs;
  const javascript = Object.keys(outputs).filter((path) => path.endsWith('.mjs') || path.endsWith('.js'));
  // Dynamically imported chunks are entry points to esbuild too: the entry is found by its file name.
  const entry = javascript.find((path) => resolve(ROOT, path) === file);
  if (!entry) throw new Error(`${file} is not among the outputs`);
  const loaded = new Set<string>();
  const visit = (path: string): void => {
    if (loaded.has(path)) return;
    loaded.add(path);
    for (const imported of outputs[path]!.imports) {
      if (imported.kind === 'import-statement' && !imported.external) visit(imported.path);
    }
  };
  visit(entry);
  const size = (paths: Iterable<string>) => [...paths].reduce((total, path) => total + outputs[path]!.bytes, 0);
  return { file, bytes: size(javascript), initialBytes: size(loaded) };
}

const execFileAsync = promisify(execFile);

interface ColdInit {
  importMs: number;
  minMs: number;
  maxMs: number;
  processMs: number;
}

/** Medians per bundle; a bundle that fails to import is left out of the rounds and reported in `failures`. */
async function measureColdInit(
  probe: string,
  built: Bundle[],
): Promise<{ results: Map<string, ColdInit>; failures: Map<string, string> }> {
  // A clean environment: no NODE_OPTIONS from tsx or the caller, only what a Lambda would have.
  const env = { PATH: process.env.PATH ?? '', ...FUNCTION_ENV };
  const samples = new Map<string, { importMs: number[]; processMs: number[] }>(
    built.map((b) => [b.name, { importMs: [], processMs: [] }]),
  );
  const once = async (bundle: Bundle) => {
    const start = process.hrtime.bigint();
    let stdout: string;
    try {
      ({ stdout } = await execFileAsync(
        process.execPath,
        [probe, pathToFileURL(bundle.file).href, bundle.kind === 'function' ? 'handler' : 'baseline'],
        { env },
      ));
    } catch (error) {
      // The minified line that threw is huge; the error's own first line is what says why.
      const stderr = String((error as { stderr?: unknown }).stderr ?? error);
      const reason = stderr.split('\n').find((line) => /^\w*Error\b/.test(line)) ?? stderr.slice(-300);
      throw new Error(`${bundle.name}: importing the bundle failed: ${reason}`);
    }
    const processNs = process.hrtime.bigint() - start;
    const { importNs } = JSON.parse(stdout) as { importNs: string };
    return { importMs: Number(importNs) / 1e6, processMs: Number(processNs) / 1e6 };
  };
  // One discarded round warms the file cache; then round-robin, so slow drift hits every bundle alike.
  const failures = new Map<string, string>();
  for (const bundle of built) {
    await once(bundle).catch((error: unknown) => failures.set(bundle.name, String(error)));
  }
  const importable = built.filter((bundle) => !failures.has(bundle.name));
  for (let round = 0; round < SPAWNS; round++) {
    for (const bundle of importable) {
      const sample = await once(bundle);
      const s = samples.get(bundle.name)!;
      s.importMs.push(sample.importMs);
      s.processMs.push(sample.processMs);
    }
  }
  const results = new Map<string, ColdInit>();
  for (const [name, s] of samples) {
    if (s.importMs.length === 0) continue;
    const importSorted = [...s.importMs].sort((a, b) => a - b);
    results.set(name, {
      importMs: medianOfSorted(importSorted),
      minMs: importSorted[0]!,
      maxMs: importSorted[importSorted.length - 1]!,
      processMs: medianOfSorted([...s.processMs].sort((a, b) => a - b)),
    });
  }
  return { results, failures };
}
