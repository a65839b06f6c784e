import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * `GET /docs`: the API reference of the local runtime, Swagger UI (swagger-ui-dist, the project's own prebuilt
 * bundle, kept by the Swagger team) rendering `GET /openapi.json`, every file served from node_modules so it
 * works with no network. "Try it out" sends requests to this runtime; "Authorize" takes a bearer token from
 * `POST /local/tokens`, which the page can also fetch itself (its token box). Swagger UI rather than Redoc
 * (no "try it") or Scalar (a Vue application of ~30 packages): one dependency, and the console users expect.
 */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const swaggerUiFolder = () => dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>membergate API reference (local)</title>
  <link rel="icon" href="/docs/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <style>
    body { margin: 0; }
    #local-token { font: 14px sans-serif; padding: 12px 20px; background: #f6f8fa; border-bottom: 1px solid #ddd; }
    #local-token input, #local-token select { margin: 0 6px; }
  </style>
</head>
<body>
  <form id="local-token">
    <strong>Local token</strong> (<code>POST /local/tokens</code>, then used by "Try it out"):
    <select name="role"><option>admin</option><option>support</option><option>automation</option><option>customer</option></select>
    site <input name="siteId" value="site-1" size="12">
    customer <input name="customerId" value="" size="10" placeholder="for customer">
    <button type="submit">Get token and authorize</button>
    <span id="local-token-status"></span>
  </form>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout',
  persistAuthorization: true,
  tryItOutEnabled: true,
});
document.getElementById('local-token').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const request = { role: form.get('role'), siteId: form.get('siteId') };
  if (request.role === 'admin') request.email = 'owner@example.com';
  if (form.get('customerId')) request.customerId = form.get('customerId');
  const status = document.getElementById('local-token-status');
  const answer = await fetch('/local/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
  const body = await answer.json();
  if (!answer.ok) { status.textContent = JSON.stringify(body.error); return; }
  const schemes = window.ui.specSelectors.securityDefinitions();
  const name = schemes ? [...schemes.keys()].find((key) => schemes.getIn([key, 'scheme']) === 'bearer') : null;
  if (!name) { status.textContent = 'token: ' + body.token; return; }
  window.ui.authActions.authorize({ [name]: { name, schema: schemes.get(name), value: body.token } });
  status.textContent = 'authorized as ' + request.role + ' of ' + request.siteId;
});
`;

/** Serves `/docs` and its files; false when the path is not one of them. */
export async function serveDocs(method: string, pathname: string, response: ServerResponse): Promise<boolean> {
  if (method !== 'GET' || (pathname !== '/docs' && !pathname.startsWith('/docs/'))) return false;
  if (pathname === '/docs' || pathname === '/docs/') {
    reply(response, 200, 'text/html; charset=utf-8', PAGE);
    return true;
  }
  const file = pathname.slice('/docs/'.length);
  if (file === 'init.js') {
    reply(response, 200, 'text/javascript; charset=utf-8', INIT);
    return true;
  }
  const type = ASSETS[file];
  if (!type) {
    reply(
      response,
      404,
      'application/json',
      JSON.stringify({ error: { code: 'not_found', message: `no file ${file} in /docs`, details: [] } }),
    );
    return true;
  }
  reply(response, 200, type, await readFile(join(swaggerUiFolder(), file)));
  return true;
}

function reply(response: ServerResponse, status: number, type: string, body: string | Buffer) {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-cache' });
  response.end(body);
}
