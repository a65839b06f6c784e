import type { BundlingOptions, ILocalBundling } from 'aws-cdk-lib';
import { type BuildOptions, buildSync } from 'esbuild';
import { PROJECT_ROOT } from '../definitions.ts';

/**
 * Lets ESM output use CommonJS dependencies that call `require` (esbuild's `__require` shim looks for a
 * global `require`, which ESM does not have). The alias avoids clashing with a bundled `createRequire`.
 * esbuild puts it at the top of every output file, chunks included.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __membergateCreateRequire } from 'node:module'; const require = __membergateCreateRequire(import.meta.url);";

/** The entry's output file, `index.mjs`: the function's handler is `index.<export>`. */
export const ENTRY_NAME = 'index';

/**
 * How every function is bundled: an ESM build of `entry` by the local esbuild for the Lambda runtime
 * (node22), minified, with source maps (no sources inside) that Node applies to stack traces. The bench
 * builds with exactly these options, so what it measures is what is deployed.
 *
 * Split into chunks. A dynamic `import()` of an adapter (the Stripe SDK, the Scheduler client, Secrets
 * Manager, and the AWS SDK's own rarely used credential providers) becomes a file of its own that Node
 * reads, parses and runs only when a request first needs it. In one file, the same code would be parsed at
 * every cold start even though it never runs: parsing, not running, is most of what such code costs.
 * NodejsFunction's own bundling writes a single `--outfile`, which esbuild cannot split; hence this.
 */
export function functionBuildOptions(entry: string, outdir: string): BuildOptions & { outdir: string } {
  return {
    entryPoints: { [ENTRY_NAME]: entry },
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    absWorkingDir: PROJECT_ROOT,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    // Prefer packages' ESM builds: better tree shaking, smaller bundles (DESIGN §4: ≤ 1 MB each).
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    minify: true,
    sourcemap: true,
    // The maps give stack traces file:line; the sources themselves would only make the package bigger.
    sourcesContent: false,
    // The runtime ships an AWS SDK v3, but not the version we test against: bundle ours, pinned.
    external: [],
    // Errors only: synthesis (and so every infra test run) bundles each function.
    logLevel: 'error',
  };
}

/**
 * Local bundling for a function's code asset: runs `functionBuildOptions` in-process (no Docker). `entry` is
 * an own property on purpose: CDK keys its asset cache on the bundling options' data, and two functions
 * must never share a cached bundle.
 */
export class FunctionBundling implements ILocalBundling {
  constructor(readonly entry: string) {}

  tryBundle(outputDir: string, _options: BundlingOptions): boolean {
    // Throws with esbuild's errors when the build fails: there is no Docker fallback to try instead.
    buildSync(functionBuildOptions(this.entry, outputDir));
    return true;
  }
}
