import { RETRY_TIERS, type RetryTierTopicKey } from '@skyhook/contracts';

export const ALL_RETRY_TIER_TOPIC_KEYS: readonly RetryTierTopicKey[] = RETRY_TIERS.map(
  ({ topicKey }) => topicKey,
);
