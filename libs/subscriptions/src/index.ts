export * from './clock';
export * from './subscription.error';
export * from './subscription-state';
export * from './subscription-decisions';
export * from './signing-secrets';
export * from './event-type-filter';
