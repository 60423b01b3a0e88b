import {
  isPartnerNotificationType,
  isReservedEventType,
  PARTNER_NOTIFICATION_CATALOGUE,
  PARTNER_NOTIFICATION_TYPES,
  partnerNotificationDataSchemas,
  partnerNotificationId,
  partnerNotificationJsonSchema,
} from './partner-notification.contract';
import { eventTypeNameSchema } from './event-type-name';

describe('partner notification types', () => {
  it.each(PARTNER_NOTIFICATION_TYPES)(
    '%s: a valid type name in the reserved domain, its example valid',
    (type) => {
      expect(eventTypeNameSchema.safeParse(type).success).toBe(true);
      expect(isReservedEventType(type)).toBe(true);
      expect(
        partnerNotificationDataSchemas[type].safeParse(PARTNER_NOTIFICATION_CATALOGUE[type].example).success,
      ).toBe(true);
      expect(partnerNotificationJsonSchema(type)).toMatchObject({
        type: 'object',
        additionalProperties: false,
      });
    },
  );

  it('reserves the whole skyhook domain, and only it', () => {
    expect(isReservedEventType('skyhook.anything.else')).toBe(true);
    expect(isPartnerNotificationType('skyhook.anything.else')).toBe(false);
    expect(isReservedEventType('skyhookish.created')).toBe(false);
    expect(isReservedEventType('booking.created')).toBe(false);
  });

  it('names one occurrence with one id, and different occurrences differently', () => {
    const id = partnerNotificationId('org_1', 'skyhook.subscription.expiring', ['sub_1', '2026-12-31', 168]);
    expect(id).toMatch(/^ntf_[A-Za-z0-9_-]{26}$/);
    expect(
      partnerNotificationId('org_1', 'skyhook.subscription.expiring', ['sub_1', '2026-12-31', 168]),
    ).toBe(id);
    expect(
      partnerNotificationId('org_1', 'skyhook.subscription.expiring', ['sub_1', '2026-12-31', 24]),
    ).not.toBe(id);
    expect(
      partnerNotificationId('org_2', 'skyhook.subscription.expiring', ['sub_1', '2026-12-31', 168]),
    ).not.toBe(id);
  });

  it('refuses data that breaks a type schema (an unknown field, a missing one)', () => {
    const schema = partnerNotificationDataSchemas['skyhook.subscription.expired'];
    const example = PARTNER_NOTIFICATION_CATALOGUE['skyhook.subscription.expired'].example;
    expect(schema.safeParse({ ...example, extra: 1 }).success).toBe(false);
    expect(schema.safeParse({ subscriptionId: 'sub_1' }).success).toBe(false);
  });
});
