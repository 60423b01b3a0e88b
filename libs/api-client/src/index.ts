// The api's typed client: operations and types generated from its OpenAPI document
// (src/generated, `npm run generate:client`), and `skyhookApi`, the client they are called with.
export * from './generated';
export { type Client } from './generated/client';
export { SkyhookApiError, skyhookApi, type SkyhookApiOptions } from './skyhook-api';
