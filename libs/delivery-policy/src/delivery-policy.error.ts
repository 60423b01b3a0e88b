import { type z } from 'zod';
import { CodedError } from '@skyhook/contracts';

export enum DeliveryPolicyErrorCode {
  /** Caller input (an organisation default or a subscription override) breaks a rule. */
  InvalidOverride = 'INVALID_DELIVERY_POLICY_OVERRIDE',
  /** Each layer is valid alone, but the merged policy is not (e.g. two knobs name one header). */
  InvalidEffectivePolicy = 'INVALID_EFFECTIVE_DELIVERY_POLICY',
}

export interface DeliveryPolicyIssue {
  /** Where in the policy, e.g. `signature.header`, `retry.delaysMs[2]`, `headers.extra.X-Tenant`. */
  readonly path: string;
  readonly message: string;
}

/** A policy problem, with every issue listed so a client can fix them all at once. */
export class DeliveryPolicyError extends CodedError<DeliveryPolicyErrorCode, readonly DeliveryPolicyIssue[]> {
  constructor(code: DeliveryPolicyErrorCode, issues: readonly DeliveryPolicyIssue[]) {
    super(
      code,
      `${summaryOf(code)}: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
      issues,
    );
  }

  /** Every issue, by path (the details). */
  get issues(): readonly DeliveryPolicyIssue[] {
    return this.details;
  }
}

function summaryOf(code: DeliveryPolicyErrorCode): string {
  switch (code) {
    case DeliveryPolicyErrorCode.InvalidOverride:
      return 'invalid delivery policy';
    case DeliveryPolicyErrorCode.InvalidEffectivePolicy:
      return 'the merged delivery policy is invalid';
  }
}

export function issuesFromZodError(error: z.ZodError): DeliveryPolicyIssue[] {
  return error.issues.map((issue) => ({
    path: renderPath(issue.path),
    message:
      // zod reports a bad record key as "Invalid key in record"; the nested issue says why.
      issue.code === 'invalid_key' ? issue.issues.map((nested) => nested.message).join('; ') : issue.message,
  }));
}

function renderPath(path: readonly PropertyKey[]): string {
  let rendered = '';
  for (const segment of path) {
    if (typeof segment === 'number') {
      rendered += `[${segment}]`;
    } else {
      rendered += rendered === '' ? String(segment) : `.${String(segment)}`;
    }
  }
  return rendered === '' ? '(policy)' : rendered;
}
