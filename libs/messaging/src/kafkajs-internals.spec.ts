import { loadKafkajsClass } from './kafkajs-internals';

describe('loadKafkajsClass', () => {
  it("returns the class's prototype when every method a patch relies on is there", () => {
    const { prototype } = loadKafkajsClass<{ fetch: () => void; heartbeat: () => void }>(
      'kafkajs/src/consumer/consumerGroup',
      ['fetch', 'heartbeat'],
      'test patch',
    );
    expect(typeof prototype.fetch).toBe('function');
  });

  it('refuses, naming the patch and what is missing, when kafkajs no longer has a method', () => {
    expect(() =>
      loadKafkajsClass<{ fetch: () => void; renamedAway: () => void }>(
        'kafkajs/src/consumer/consumerGroup',
        ['fetch', 'renamedAway'],
        'test patch',
      ),
    ).toThrow(
      "kafkajs' kafkajs/src/consumer/consumerGroup has no renamedAway: the test patch needs updating",
    );
  });
});
