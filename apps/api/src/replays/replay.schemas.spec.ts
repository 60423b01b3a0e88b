import { startReplaySchema } from './replay.schemas';

const issuesOf = (body: unknown) => {
  const parsed = startReplaySchema.safeParse(body);
  return parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
};

describe('POST /v1/subscriptions/{id}/replay body', () => {
  it('needs only since, and leaves the defaults to the use case (they are not part of the fingerprint)', () => {
    expect(startReplaySchema.parse({ since: '2026-05-31T00:00:00Z' })).toEqual({
      since: '2026-05-31T00:00:00Z',
    });
  });

  it.each([
    [{}, /^since: /],
    [{ since: 'last tuesday' }, /^since: /],
    [{ since: '2026-05-31T00:00:00Z', until: '2026-05-31T00:00:00Z' }, /^until: until must be after since/],
    [{ since: '2026-05-31T00:00:00Z', statuses: [] }, /^statuses: /],
    [
      { since: '2026-05-31T00:00:00Z', statuses: ['failed', 'failed'] },
      /^statuses: statuses must not repeat/,
    ],
    [{ since: '2026-05-31T00:00:00Z', statuses: ['lost'] }, /^statuses\.0: /],
    [{ since: '2026-05-31T00:00:00Z', subscriptionId: 'sub_other' }, /Unrecognized key/],
  ])('refuses %j', (body, expected) => {
    expect(issuesOf(body)[0]).toMatch(expected);
  });
});
