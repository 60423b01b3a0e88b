import { eventTypeNameSchema } from './event-type-name';

describe('event type names', () => {
  it.each([
    'booking.created',
    'mel.deferral.expiring',
    'stage_check.passed',
    'FLIGHT_TIME_UPDATE',
    'review.completed',
  ])('accepts %s, as the seeds spell it', (name) => {
    expect(eventTypeNameSchema.safeParse(name).success).toBe(true);
  });

  it.each([
    '',
    '.booking',
    'booking.',
    'booking..created',
    'booking created',
    '*',
    'booking.*',
    '9lives',
    'a'.repeat(121),
  ])('rejects %j', (name) => {
    expect(eventTypeNameSchema.safeParse(name).success).toBe(false);
  });
});
