export * from './delivery-history-batch';
export * from './delivery-history-rows';
export * from './delivery-history.writer';
export * from './delivery-history-preparation';
export * from './history-batch-preparer';
export * from './delivery-history.repository';
export * from './replay-job.repository';
export * from './redelivery-attempt-numbers';
