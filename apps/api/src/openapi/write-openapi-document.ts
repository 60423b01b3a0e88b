/**
 * `npm run generate:client` step 1: writes the api's OpenAPI document, built from the controllers it
 * serves, to the path given (the typed client in libs/api-client is generated from that file).
 * Prints nothing on success; the file ends with a newline so it diffs cleanly.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { API_HTTP_CONTROLLERS } from '../api-http-controllers';
import { buildOpenApiDocument } from './openapi-document';

/** The document as committed: two-space JSON and a final newline. */
export function openApiDocumentText(): string {
  return `${JSON.stringify(buildOpenApiDocument(API_HTTP_CONTROLLERS), null, 2)}\n`;
}

if (require.main === module) {
  const target = process.argv[2];
  if (target === undefined) {
    process.stderr.write('usage: write-openapi-document <path of the JSON file to write>\n');
    process.exit(2);
  }
  writeFileSync(target, openApiDocumentText());
}
