export * from './partner-notification';
export * from './partner-notification-log';
