export * from './subscription-index';
export * from './organisation-directory';
export * from './fanout-plan';
