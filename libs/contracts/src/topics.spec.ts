import {
  ALL_TOPIC_KEYS,
  deadLetterTopicOf,
  KAFKA_TOPICS,
  maxMessageBytesOf,
  RECORD_SIZE_LIMITS,
} from './topics';

describe('topic catalogue', () => {
  it('gives every topic a distinct, versioned name', () => {
    const names = ALL_TOPIC_KEYS.map((key) => KAFKA_TOPICS[key].name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^skyhook\.[a-z0-9.-]+\.v\d+$/);
  });

  it('never lets the subscription log expire: it is the source of truth', () => {
    expect(KAFKA_TOPICS.subscriptionEvents.config['retention.ms']).toBe('-1');
  });

  it('lets every record derived from an event be larger than the one it comes from', () => {
    // An event that fits the inbound topic must fit every topic its delivery travels through.
    const ladder = [
      maxMessageBytesOf('inboundEvents'),
      maxMessageBytesOf('deliveryRequests'),
      maxMessageBytesOf('deliveryRetries1s'),
      maxMessageBytesOf('deliveryEvents'),
      maxMessageBytesOf('deliveryRequestsDeadLetter'),
    ];
    expect([...ladder].sort((a, b) => a - b)).toEqual(ladder);
    expect(new Set(ladder).size).toBe(ladder.length);
    for (const key of ALL_TOPIC_KEYS.filter((key) => key.startsWith('deliveryRetries'))) {
      expect(maxMessageBytesOf(key)).toBe(RECORD_SIZE_LIMITS.deliveryRetry);
    }
    for (const key of ALL_TOPIC_KEYS.filter((key) => key.endsWith('DeadLetter'))) {
      expect(maxMessageBytesOf(key)).toBe(RECORD_SIZE_LIMITS.deadLetter);
    }
  });

  it('gives every topic of a delivery a dead-letter topic that takes any of its records', () => {
    for (const key of ALL_TOPIC_KEYS.filter(
      (key) => key.startsWith('delivery') && !key.endsWith('DeadLetter'),
    )) {
      const deadLetter = deadLetterTopicOf(key);
      expect(deadLetter).toBeDefined();
      expect(maxMessageBytesOf(deadLetter!)).toBeGreaterThan(maxMessageBytesOf(key));
    }
    expect(deadLetterTopicOf('deliveryRetries1h')).toBe('deliveryRequestsDeadLetter');
    expect(deadLetterTopicOf('subscriptionCommands')).toBeUndefined();
  });
});
