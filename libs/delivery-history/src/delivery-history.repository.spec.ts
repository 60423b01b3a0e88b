import { deliveryPageSql } from './delivery-history.repository';

describe('the delivery page query', () => {
  const after = { at: '2026-05-31T18:09:12.123456Z', id: 'del_b' };

  it('seeks past the cursor with a row comparison and the bound that prunes newer partitions', () => {
    const { sql, parameters } = deliveryPageSql({ organisationId: 'org_1' }, { limit: 50, after });
    expect(sql).toContain('(published_at, delivery_id) < ($3::timestamptz, $4)');
    expect(sql).toContain('published_at <= $3::timestamptz');
    expect(sql).toMatch(/ORDER BY published_at DESC, delivery_id DESC LIMIT \$2$/);
    expect(parameters).toEqual(['org_1', 51, after.at, after.id]);
  });

  it('scopes to the subscription inside the organisation', () => {
    const { sql, parameters } = deliveryPageSql(
      { organisationId: 'org_1', subscriptionId: 'sub_1' },
      { limit: 10 },
    );
    expect(sql).toContain('organisation_id = $1 AND subscription_id = $3');
    expect(parameters).toEqual(['org_1', 11, 'sub_1']);
  });

  it('reads one status through one scan, and several as one scan each merged by an outer sort', () => {
    const one = deliveryPageSql({ organisationId: 'org_1' }, { limit: 10, statuses: ['failed'] });
    expect(one.sql).not.toContain('UNION');
    expect(one.sql).toContain('status = $3');
    const two = deliveryPageSql({ organisationId: 'org_1' }, { limit: 10, statuses: ['held', 'failed'] });
    expect(two.sql.match(/UNION ALL/g)).toHaveLength(1);
    expect(two.sql.match(/LIMIT \$2/g)).toHaveLength(3);
    expect(two.parameters).toEqual(['org_1', 11, 'failed', 'held']);
    expect(two.sql).not.toContain('ANY');
  });

  it('applies no status condition when every status is asked for', () => {
    const all = deliveryPageSql(
      { organisationId: 'org_1' },
      { limit: 10, statuses: ['waiting', 'retrying', 'delivered', 'failed', 'dropped', 'held'] },
    );
    expect(all.sql).not.toContain('status =');
  });

  it('passes every filter value as a parameter, never in the SQL text', () => {
    const { sql, parameters } = deliveryPageSql(
      { organisationId: "org'1" },
      {
        limit: 5,
        eventType: 'booking.created',
        since: new Date('2026-05-01T00:00:00Z'),
        until: new Date('2026-06-01T00:00:00Z'),
      },
    );
    expect(sql).not.toMatch(/org'1|booking|2026/);
    expect(sql).toContain('event_type = $3 AND published_at >= $4 AND published_at < $5');
    expect(parameters.slice(2)).toEqual([
      'booking.created',
      '2026-05-01T00:00:00.000Z',
      '2026-06-01T00:00:00.000Z',
    ]);
  });
});
