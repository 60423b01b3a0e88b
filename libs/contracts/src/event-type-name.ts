import { z } from 'zod';

/**
 * Event type names as the seeds spell them: dotted lower-case (`booking.created`,
 * `mel.deferral.expiring`, `stage_check.passed`) and UPPER_SNAKE (`FLIGHT_TIME_UPDATE`).
 */
export const EVENT_TYPE_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/;
export const EVENT_TYPE_NAME_MAX_LENGTH = 120;

export const eventTypeNameSchema = z
  .string()
  .max(EVENT_TYPE_NAME_MAX_LENGTH)
  .regex(EVENT_TYPE_NAME_PATTERN, 'must be dotted (booking.created) or UPPER_SNAKE (FLIGHT_CREATE)');
