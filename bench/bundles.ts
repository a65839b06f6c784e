import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type BuildOptions, build } from 'esbuild';
import { type Budget, fmt } from './report.ts';
import type { Section } from './section.ts';
import { medianOfSorted } from './stats.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SPAWNS = 7;
const MAX_BUNDLE_BYTES = 1_000_000;
const MAX_INIT_RATIO = 2;

/** The ESM banner: lets bundled CommonJS dependencies `require` Node built-ins. */
const ESM_REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/** As the stack's NodejsFunction bundles (infra/constructs/api-function.ts), minus the source map. */
const BUILD_OPTIONS: BuildOptions = {
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

/** The yardstick: a bundle that only imports the DynamoDB client and creates one. */
const BASELINE_SOURCE = `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
export const client = new DynamoDBClient({});
`;

/**
 * Spawned once per measurement: a fresh Node process that times `await import(bundle)`, i.e. module
 * loading plus the handler's top-level code (config, SDK client, handler construction), as a cold start
 * does before the first event.
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
 * cold start and stops with the variable's name when one is missing; add new ones here.
 */
const FUNCTION_ENV: Record<string, string> = {
  TABLE_NAME: 'x',
  SCHEDULE_GROUP: 'membergate-timers',
  TIMER_FUNCTION_ARN: 'arn:aws:lambda:eu-west-1:123456789012:function:membergate-timer',
  SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/membergate-scheduler',
  TIMER_DLQ_ARN: 'arn:aws:sqs:eu-west-1:123456789012:membergate-timer-dlq',
  // The webhook functions' signing secrets (on AWS they may come from PROCESSOR_SECRET_ARN instead; left
  // unset here so that no Secrets Manager call is made at init).
  STRIPE_WEBHOOK_SECRET: 'whsec_bench',
  PAYPAL_WEBHOOK_ID: 'WH-BENCH',
  AWS_REGION: 'eu-west-1',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

interface Bundle {
  name: string;
  file: string;
  bytes: number;
}

/**
 * DESIGN §4: each function's minified bundle ≤ 1 MB, and its cold init ≤ 2× that of a bundle that only
 * imports the DynamoDB client, in the same run.
 */
export const bundles: Section = {
  id: 'bundles',
  title: `c. Bundle size and cold init (esbuild, minified ESM; cold init = median of ${SPAWNS} fresh node processes)`,
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

      const functions = built.filter((b) => b.name !== 'baseline');
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
            headers: ['bundle', 'size', 'import (median)', 'min', 'max', 'process (median)', 'init / baseline'],
            rows: built.map((bundle) => {
              const label = bundle.name === 'baseline' ? 'baseline (DynamoDBClient only)' : `functions/${bundle.name}`;
              const m = init.get(bundle.name);
              if (!m) return [label, fmt.kb(bundle.bytes), 'import failed', '', '', '', ''];
              return [
                label,
                fmt.kb(bundle.bytes),
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
          `import = time to \`await import()\` the bundle in a fresh node ${process.version}, with placeholder values for the stack's env vars;`,
          'process = spawn to exit, including Node start-up (informational). Spawns run one at a time, round-robin.',
        ],
      };
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  },
};

/** Every functions/<name>/handler.ts, plus the baseline. */
async function buildAll(outDir: string): Promise<Bundle[]> {
  const functionsDir = join(ROOT, 'functions');
  const names = readdirSync(functionsDir)
    .filter((name) => existsSync(join(functionsDir, name, 'handler.ts')))
    .sort();
  const bundlesBuilt: Bundle[] = [];
  for (const name of names) {
    const file = join(outDir, `${name}.mjs`);
    await build({
      ...BUILD_OPTIONS,
      entryPoints: [relative(ROOT, join(functionsDir, name, 'handler.ts'))],
      outfile: file,
    });
    bundlesBuilt.push({ name, file, bytes: statSync(file).size });
  }
  const baseline = join(outDir, 'baseline.mjs');
  await build({
    ...BUILD_OPTIONS,
    stdin: { contents: BASELINE_SOURCE, resolveDir: ROOT, sourcefile: 'baseline.ts', loader: 'ts' },
    outfile: baseline,
  });
  bundlesBuilt.push({ name: 'baseline', file: baseline, bytes: statSync(baseline).size });
  return bundlesBuilt;
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
        [probe, pathToFileURL(bundle.file).href, bundle.name === 'baseline' ? 'baseline' : 'handler'],
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
