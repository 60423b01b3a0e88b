import { listDeliveriesQuerySchema } from './delivery-history.schemas';

const parse = (query: Record<string, unknown>) => listDeliveriesQuerySchema.safeParse(query);
const issuesOf = (query: Record<string, unknown>) => {
  const parsed = parse(query);
  return parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
};

describe('GET /v1/deliveries query', () => {
  it('defaults the page size to 50 and reads no filter when none is given', () => {
    expect(parse({})).toEqual({ success: true, data: { limit: 50 } });
  });

  it('reads one status, repeated statuses and comma-separated statuses, without duplicates', () => {
    expect(parse({ status: 'failed' }).data?.status).toEqual(['failed']);
    expect(parse({ status: ['failed', 'held'] }).data?.status).toEqual(['failed', 'held']);
    expect(parse({ status: 'failed, dropped,failed' }).data?.status).toEqual(['failed', 'dropped']);
  });

  it('names the unknown status', () => {
    expect(issuesOf({ status: 'failed,lost' }).join()).toMatch(/^status\.1: .*"retrying"/);
    expect(issuesOf({ status: '' })).toHaveLength(1);
  });

  it.each<[string | string[], string]>([
    ['0', 'too small'],
    ['201', 'too big'],
    ['1e309', 'Infinity'],
    ['ten', 'not a number'],
    [['10', '20'], 'repeated'],
  ])('refuses limit %j (%s)', (limit) => {
    expect(issuesOf({ limit })[0]).toMatch(/^limit: /);
  });

  it('accepts ISO 8601 instants with an offset, and an empty window (since = until)', () => {
    const parsed = parse({ since: '2026-05-31T20:00:00+02:00', until: '2026-05-31T18:00:00Z', limit: '200' });
    expect(parsed.success).toBe(true);
    expect(parsed.data?.limit).toBe(200);
  });

  it.each([
    ['yesterday'],
    ['2026-02-30T00:00:00Z'],
    ['2026-05-31'],
    ['2026-05-31T18:00:00'],
    ['0000-01-01T00:00:00Z'],
    ["2026-05-31T18:00:00Z' OR 1=1 --"],
  ])('refuses since %j', (since) => {
    expect(issuesOf({ since })[0]).toMatch(/^since: /);
  });

  it('refuses until before since, on the until field', () => {
    expect(issuesOf({ since: '2026-06-01T00:00:00Z', until: '2026-05-31T00:00:00Z' })).toEqual([
      'until: until must not be before since',
    ]);
  });

  it('refuses an event type that is not a catalogue name, and unknown parameters', () => {
    expect(issuesOf({ eventType: "booking'; DROP TABLE deliveries; --" })[0]).toMatch(/^eventType: /);
    expect(issuesOf({ sort: 'asc' })[0]).toMatch(/Unrecognized key/);
  });
});
