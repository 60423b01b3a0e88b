export * from './adaptive-concurrency';
export * from './attempt-report';
export * from './delivery-decisions';
export * from './delivery-records';
export * from './endpoint-breakers';
export * from './redelivery';
export * from './request-pacing';
