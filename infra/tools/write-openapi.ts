/**
 * `npm run openapi`: writes the OpenAPI document (shared/http/openapi.ts) to openapi.json at the repository root,
 * the file test/unit/openapi.test.ts compares with a fresh generation.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openApiText } from '../../shared/http/openapi.ts';

const target = fileURLToPath(new URL('../../openapi.json', import.meta.url));
writeFileSync(target, openApiText());
console.log(`wrote ${target}`);
