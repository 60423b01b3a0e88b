import { setTimeout as sleep } from 'node:timers/promises';
import { type SeedStack, startSeedStack } from '../../test/seed-conformance-stack';

/**
 * FlexOrch's contract, served by the `flexorch` profile and checked by a receiver written from
 * FlexOrch's documentation (Python, its `verify_signature` sample). Time runs 30× faster, so the
 * one retry's 30 s wait takes 1 s; the 10 s timeout is real.
 */
describe('seed contract: FlexOrch, end to end', () => {
  let stack: SeedStack;

  beforeAll(async () => {
    stack = await startSeedStack({
      seed: 'flexorch',
      timeScale: 30,
      eventTypes: ['job.completed', 'job.failed', 'dataset.ready'],
    });
    stack.receiver.setBehaviour((request, nth) => {
      switch (request.path) {
        case '/flexorch/down':
          return { status: 502 };
        case '/flexorch/slow':
          return nth === 1 ? { status: 200, delayMs: 11_000 } : { status: 200 };
        default:
          return { status: 200 };
      }
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('signs the raw body (hex HMAC in X-Flexorch-Signature) and sends the full result flat beside event and timestamp', async () => {
    const path = '/flexorch/hooks';
    // FlexOrch partners register their own secret.
    const subscription = await stack.subscribe(path, {
      eventTypes: ['job.completed', 'job.failed', 'dataset.ready'],
      secret: 'your_signing_secret',
    });
    expect(subscription.secret).toBe('your_signing_secret');
    await stack.publish('job.completed', {
      job_id: 'job_abc123',
      status: 'completed',
      quality_grade: 'A',
      pii_findings_count: 2,
    });
    await stack.publish('job.failed', { job_id: 'job_def456', status: 'failed', error: 'schema mismatch' });
    await stack.publish('dataset.ready', { dataset_id: 'ds_1', status: 'ready', rows: 1_204 });

    const received = await stack.receiver.waitForCount(path, 3, 30_000);
    const report = await stack.verify(subscription.secret, received);
    expect(report.verified).toBe(3);
    const completed = received.find((request) => request.rawBody.toString().includes('job_abc123'))!;
    expect(Object.keys(JSON.parse(completed.rawBody.toString()) as object)).toEqual([
      'event',
      'job_id',
      'status',
      'quality_grade',
      'pii_findings_count',
      'timestamp',
    ]);
  });

  it('sends a test event a FlexOrch receiver accepts: the catalogue example, flat beside event and timestamp', async () => {
    const path = '/flexorch/test-events';
    const subscription = await stack.subscribe(path, {
      eventTypes: ['job.*'],
      secret: 'your_signing_secret',
    });
    const example = { job_id: 'job_test', status: 'completed', quality_grade: 'A', pii_findings_count: 0 };
    expect(await stack.sendTestEvent(subscription.id, 'job.completed', example)).toMatchObject({
      type: 'job.completed',
      data: example,
    });
    const received = await stack.receiver.waitForCount(path, 1, 30_000);
    expect((await stack.verify(subscription.secret, received)).verified).toBe(1);
  });

  it('retries a non-2xx or a timed-out delivery once, and only once', async () => {
    const subscriptions = {
      down: await stack.subscribe('/flexorch/down', { eventTypes: ['job.failed'] }),
      slow: await stack.subscribe('/flexorch/slow', { eventTypes: ['job.failed'] }),
    };
    await stack.publish('job.failed', { job_id: 'job_retry', status: 'failed' });

    await Promise.all([
      stack.receiver.waitForCount('/flexorch/down', 2, 30_000),
      stack.receiver.waitForCount('/flexorch/slow', 2, 30_000),
    ]);
    await sleep(3_000); // A third attempt would have come by now.

    const down = await stack.verify(subscriptions.down.secret, stack.receiver.receivedOn('/flexorch/down'));
    expect(down.deliveries).toEqual([
      expect.objectContaining({ attempts: 2, answers: [502, 502], outcome: 'failed' }),
    ]);
    const slow = await stack.verify(subscriptions.slow.secret, stack.receiver.receivedOn('/flexorch/slow'));
    expect(slow.deliveries).toEqual([expect.objectContaining({ attempts: 2, outcome: 'delivered' })]);
  });

  it('rotates the secret as docs/profiles/flexorch.md says, with a receiver holding one secret: nothing lost, never disabled', async () => {
    // The receiver checks signatures as the seed's sample does; the seed's verifier checks the
    // deliveries before and after the activation, each with the one secret held then.
    await stack.checkRotation('/flexorch/rotation', { eventTypes: ['job.completed'] }, (n) =>
      stack.publish('job.completed', { job_id: `job_rot_${n}`, status: 'completed' }),
    );
  });
});
