import { randomBytes } from 'node:crypto';

/** A short random suffix: topics, groups and databases of one test never meet another's. */
export function uniqueSuffix(): string {
  return randomBytes(4).toString('hex');
}

/** A topic/group prefix for one test, e.g. `t-3f9a1c2e.` */
export function uniqueTopicPrefix(): string {
  return `t-${uniqueSuffix()}.`;
}
