import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

/**
 * Holds an HTTP answer of the local runtime to the OpenAPI document (openapi.json at the repository root, which
 * test/unit/openapi.test.ts keeps equal to a fresh generation): the operation by method and path template,
 * then the status, the content type and the body. The e2e clients (./e2e-http.ts) call it on every answer,
 * and any other test (the fuzz suite) may call `responseProblems` or `assertDocumentedResponse`.
 *
 * The schemas are JSON Schema draft 2020-12, validated by ajv (`ajv/dist/2020`) with ajv-formats.
 * test/unit/openapi-validation.test.ts shows it accepting and refusing.
 */

// ajv-formats is CommonJS: under ESM its plugin is the default export's `default`.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = { [key: string]: Json };

interface Operation {
  responses: Record<string, Schema>;
}

export interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; responses?: Record<string, Schema> };
}

/** One answer as a client saw it. `path` may carry a query string; it is not part of the match. */
export interface ObservedResponse {
  method: string;
  path: string;
  status: number;
  contentType: string | null;
  /** The parsed JSON body, or undefined when the body was empty. */
  body: unknown;
}

const DOCUMENT_FILE = new URL('../../openapi.json', import.meta.url);
let loaded: Document | undefined;
/** The committed document, read once. */
export function apiDocument(): Document {
  loaded ??= JSON.parse(readFileSync(DOCUMENT_FILE, 'utf8')) as Document;
  return loaded;
}

/** The id under which the document is known to ajv; its `#/components/…` references resolve against it. */
const DOCUMENT_ID = 'https://membergate.local/openapi.json';

interface Validators {
  ajv: Ajv2020;
  compiled: WeakMap<object, ValidateFunction>;
}
const validatorsOf = new WeakMap<Document, Validators>();

/**
 * ajv (JSON Schema 2020-12, the dialect of OpenAPI 3.1 and of `z.toJSONSchema`) with the formats of
 * ajv-formats, holding the document's component schemas as `$defs` of one schema (its references re-pointed
 * there). Strict: an unknown keyword or `format` fails to compile rather than passing unchecked.
 */
function validators(document: Document): Validators {
  let found = validatorsOf.get(document);
  if (!found) {
    const ajv = new Ajv2020({ allErrors: true, strictTypes: false });
    addFormats(ajv);
    // OpenAPI's Schema Object annotation, not a JSON Schema keyword.
    ajv.addKeyword({ keyword: 'example', schemaType: ['string', 'number', 'boolean', 'object', 'array', 'null'] });
    ajv.addSchema({ $id: DOCUMENT_ID, $defs: anchored(document.components.schemas) as Schema }, DOCUMENT_ID);
    found = { ajv, compiled: new WeakMap() };
    validatorsOf.set(document, found);
  }
  return found;
}

const COMPONENT_SCHEMAS = '#/components/schemas/';

/** A schema of the document with its local references (`#/components/…`) pointed at the document. */
function anchored(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(anchored);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) => [
      key,
      key === '$ref' && typeof value === 'string' && value.startsWith(COMPONENT_SCHEMAS)
        ? `${DOCUMENT_ID}#/$defs/${value.slice(COMPONENT_SCHEMAS.length)}`
        : anchored(value),
    ]),
  );
}

function describeError(error: ErrorObject): string {
  const at = `$${error.instancePath.replaceAll('/', '.')}`;
  const params = error.params as Record<string, unknown>;
  const detail =
    error.keyword === 'additionalProperties'
      ? ` (${String(params.additionalProperty)})`
      : error.keyword === 'enum'
        ? ` ${JSON.stringify(params.allowedValues)}`
        : '';
  return `${at}: ${error.message ?? error.keyword}${detail}`;
}

/** The problems of `value` against `schema` (ajv's errors, each with its JSON path); empty when it is valid. */
export function schemaProblems(document: Document, schema: Schema, value: unknown): string[] {
  const { ajv, compiled } = validators(document);
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(anchored(schema) as Schema);
    compiled.set(schema, validate);
  }
  return validate(value) ? [] : (validate.errors ?? []).map(describeError);
}

function resolve(document: Document, ref: string): Schema {
  const match = /^#\/components\/(schemas|responses)\/([^/]+)$/.exec(ref);
  const target = match ? document.components[match[1] as 'schemas' | 'responses']?.[match[2]!] : undefined;
  if (!target) throw new Error(`unresolvable $ref ${ref}`);
  return target;
}

/** `/sites/{siteId}/purchases/{purchaseId}` → a regex of the concrete paths it stands for. */
function templatePattern(template: string): RegExp {
  const escaped = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '[^/]+');
  return new RegExp(`^${escaped}$`);
}

/** The path template a concrete path belongs to; the most literal one when several match. */
export function pathTemplate(document: Document, path: string): string | null {
  // The path as a client sends it: `.` segments resolved, the fragment dropped, spaces and the like encoded.
  const bare = new URL(path, 'http://client.local').pathname;
  const matches = Object.keys(document.paths).filter((template) => templatePattern(template).test(bare));
  const params = (template: string) => (template.match(/\{/g) ?? []).length;
  return matches.sort((a, b) => params(a) - params(b))[0] ?? null;
}

/** Paths the local runtime adds for development (`/local/*`): not part of the API, so not in the document. */
export function isLocalOnly(path: string): boolean {
  return path.startsWith('/local/');
}

const ERROR_SCHEMA: Schema = { $ref: '#/components/schemas/Error' };

function unroutedProblems(document: Document, observed: ObservedResponse, label: string): string[] {
  // The gateway answers before routing too: a body over its limit is a 413 whatever the path.
  if (observed.status !== 404 && observed.status !== 413)
    return [`${label}: no operation of the document takes this request, so only 404 (or 413) may answer it`];
  return schemaProblems(document, ERROR_SCHEMA, observed.body).map((p) => `${label}: ${p}`);
}

/** Everything wrong with an answer according to the document; empty when it is documented. */
export function responseProblems(observed: ObservedResponse, document: Document = apiDocument()): string[] {
  const label = `${observed.method} ${observed.path} → ${observed.status}`;
  const template = pathTemplate(document, observed.path);
  const operation = template ? document.paths[template]![observed.method.toLowerCase()] : undefined;
  // A request no route takes is the gateway's: a 404 with the documented error body, and nothing else.
  if (!operation) return unroutedProblems(document, observed, label);
  let response = operation.responses[String(observed.status)];
  if (!response) {
    return [
      `${label}: status ${observed.status} is not documented (documented: ${Object.keys(operation.responses).join(', ')})`,
    ];
  }
  if (typeof response.$ref === 'string') response = resolve(document, response.$ref);
  const content = response.content as Record<string, { schema: Schema }> | undefined;
  if (!content) {
    return observed.body === undefined ? [] : [`${label}: the document says no body, the answer has one`];
  }
  const mediaType = (observed.contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const media = content[mediaType];
  if (!media)
    return [`${label}: content type ${observed.contentType} is not documented (${Object.keys(content).join(', ')})`];
  if (observed.body === undefined) return [`${label}: the document describes a body, the answer has none`];
  return schemaProblems(document, media.schema, observed.body).map((problem) => `${label}: ${problem}`);
}

/** Throws with every problem when the answer is not what the document says (local-only paths pass). */
export function assertDocumentedResponse(observed: ObservedResponse, document: Document = apiDocument()): void {
  if (isLocalOnly(observed.path.split('?')[0]!)) return;
  const problems = responseProblems(observed, document);
  if (problems.length > 0) {
    throw new Error(
      `the answer is not what openapi.json documents:\n${problems.join('\n')}\nbody: ${JSON.stringify(observed.body)}`,
    );
  }
}
