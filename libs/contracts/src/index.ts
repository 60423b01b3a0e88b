export * from './topics';
export * from './message-contract';
export * from './contract-violation.error';
export * from './event-type-name';
export * from './inbound-event.contract';
export * from './subscription-event.contract';
export * from './organisation-snapshot.contract';
export * from './delivery-request.contract';
