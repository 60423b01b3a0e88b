import { ALL_TOPIC_KEYS, KAFKA_TOPICS } from './topics';

describe('topic catalogue', () => {
  it('gives every topic a distinct, versioned name', () => {
    const names = ALL_TOPIC_KEYS.map((key) => KAFKA_TOPICS[key].name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^skyhook\.[a-z0-9.-]+\.v\d+$/);
  });

  it('never lets the subscription log expire: it is the source of truth', () => {
    expect(KAFKA_TOPICS.subscriptionEvents.config['retention.ms']).toBe('-1');
  });
});
