import { Controller, Get } from '@nestjs/common';
import { buildOpenApiDocument } from './openapi-document';

/** The OpenAPI document, public like any API reference. */
@Controller()
export class DocsController {
  private readonly document = buildOpenApiDocument();

  @Get(['docs', 'docs/openapi.json'])
  openApi(): Record<string, unknown> {
    return this.document;
  }
}
