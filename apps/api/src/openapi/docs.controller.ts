import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import { type FastifyReply } from 'fastify';
import { getAbsoluteFSPath } from 'swagger-ui-dist';
import { API_HTTP_CONTROLLERS } from '../api-http-controllers';
import { buildOpenApiDocument } from './openapi-document';

/** The Swagger UI files the page loads, by the name it asks for: nothing else is read from disk. */
const SWAGGER_UI_ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const DOCS_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Skyhook API</title>
    <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png" />
    <link rel="stylesheet" href="/docs/assets/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/assets/swagger-ui-bundle.js"></script>
    <script src="/docs/assets/swagger-initializer.js"></script>
  </body>
</html>
`;

/** Points Swagger UI at the document; a file rather than inline, so a strict CSP can stay strict. */
const SWAGGER_INITIALIZER = `window.ui = SwaggerUIBundle({ url: '/docs/openapi.json', dom_id: '#swagger-ui', deepLinking: true });\n`;

/** The API reference, public like any: a browsable page at /docs and the OpenAPI document beside it. */
@Controller('docs')
export class DocsController {
  private readonly document = buildOpenApiDocument(API_HTTP_CONTROLLERS);
  private readonly assets = new Map<string, Promise<Buffer>>();

  @Get()
  page(@Res({ passthrough: true }) reply: FastifyReply): string {
    void reply.type('text/html; charset=utf-8');
    return DOCS_PAGE;
  }

  @Get('openapi.json')
  openApi(): Record<string, unknown> {
    return this.document;
  }

  @Get('assets/:name')
  async asset(
    @Param('name') name: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Buffer | string> {
    void reply.header('cache-control', 'public, max-age=86400');
    if (name === 'swagger-initializer.js') {
      void reply.type('text/javascript; charset=utf-8');
      return SWAGGER_INITIALIZER;
    }
    const type = Object.hasOwn(SWAGGER_UI_ASSETS, name) ? SWAGGER_UI_ASSETS[name] : undefined;
    if (type === undefined) throw new NotFoundException();
    let content = this.assets.get(name);
    if (content === undefined) {
      content = readFile(join(getAbsoluteFSPath(), name));
      this.assets.set(name, content);
    }
    void reply.type(type);
    return content;
  }
}
