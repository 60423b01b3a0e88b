import {
  compilePayloadTemplate,
  PAYLOAD_TEMPLATE_LIMITS,
  type PayloadTemplate,
  type PayloadTemplateSource,
  payloadTemplateSchema,
} from './payload-template';

const source: PayloadTemplateSource = {
  event: {
    id: 'evt_1',
    type: 'job.completed',
    organisationId: 'org_1',
    scope: { centerId: 'ctr_1' },
    occurredAt: '2024-01-15T10:30:00Z',
    data: {
      job_id: 'job_abc123',
      status: 'completed',
      event: 'spoofed',
      nested: { a: [1, 2] },
      'a/b': 'slash',
    },
  },
  delivery: { id: 'del_1', subscriptionId: 'sub_1', test: false },
};

function render(template: unknown): unknown {
  return compilePayloadTemplate(payloadTemplateSchema.parse(template))(source);
}

function issuesOf(template: unknown): string[] {
  const parsed = payloadTemplateSchema.safeParse(template);
  return parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('payload templates', () => {
  it('renames, picks and adds constants, keys in template order', () => {
    const body = render({
      kind: 'webhook',
      event: { $ref: '/event/type' },
      job: { $ref: '/event/data/job_id' },
      version: 2,
      live: true,
      none: null,
    });
    expect(JSON.stringify(body)).toBe(
      '{"kind":"webhook","event":"job.completed","job":"job_abc123","version":2,"live":true,"none":null}',
    );
  });

  it('flattens with $spread; keys written in the template win over spread ones', () => {
    const body = render({
      event: { $ref: '/event/type' },
      $spread: '/event/data',
      timestamp: { $ref: '/event/occurredAt' },
    });
    expect(body).toEqual({
      event: 'job.completed',
      job_id: 'job_abc123',
      status: 'completed',
      nested: { a: [1, 2] },
      'a/b': 'slash',
      timestamp: '2024-01-15T10:30:00Z',
    });
    expect(Object.keys(body as object)[0]).toBe('event');
  });

  it('leaves out a key whose $ref finds nothing, unless a default is given; null inside arrays', () => {
    expect(
      render({
        missing: { $ref: '/event/data/nope' },
        defaulted: { $ref: '/event/data/nope', default: 'n/a' },
        list: [{ $ref: '/event/data/nope' }, { $ref: '/event/scope/centerId' }],
      }),
    ).toEqual({ defaulted: 'n/a', list: [null, 'ctr_1'] });
  });

  it('follows RFC 6901 escapes and array indexes', () => {
    expect(
      render({ slash: { $ref: '/event/data/a~1b' }, second: { $ref: '/event/data/nested/a/1' } }),
    ).toEqual({
      slash: 'slash',
      second: 2,
    });
  });

  it('renders $const literally, directive-looking keys included', () => {
    expect(render({ literal: { $const: { $ref: '/event/id' } } })).toEqual({
      literal: { $ref: '/event/id' },
    });
  });

  it('never returns an inherited method as a value', () => {
    expect(render({ method: { $ref: '/event/data/toString' } })).toEqual({});
  });

  it('reads the delivery id and test flag', () => {
    expect(render({ id: { $ref: '/delivery/id' }, test: { $ref: '/delivery/test' } })).toEqual({
      id: 'del_1',
      test: false,
    });
  });

  it('writes a timestamp in the format asked for, in UTC, and leaves other values as they are', () => {
    const at = (occurredAt: string, format: string): unknown =>
      compilePayloadTemplate(payloadTemplateSchema.parse({ t: { $ref: '/event/occurredAt', format } }))({
        ...source,
        event: { ...source.event, occurredAt },
      });
    expect(at('2026-05-30T18:09:12.941Z', 'iso8601-seconds')).toEqual({ t: '2026-05-30T18:09:12Z' });
    expect(at('2026-05-30T20:09:12+02:00', 'iso8601-seconds')).toEqual({ t: '2026-05-30T18:09:12Z' });
    expect(at('2026-05-31T14:03:22Z', 'iso8601-millis')).toEqual({ t: '2026-05-31T14:03:22.000Z' });
    expect(at('2026-05-31T14:03:22.5+00:00', 'iso8601-millis')).toEqual({ t: '2026-05-31T14:03:22.500Z' });
    // Data that is not a date-time passes through; a missing value still takes the default.
    expect(render({ t: { $ref: '/event/data/status', format: 'iso8601-seconds' } })).toEqual({
      t: 'completed',
    });
    expect(render({ t: { $ref: '/event/data/nested', format: 'iso8601-millis' } })).toEqual({
      t: { a: [1, 2] },
    });
    expect(render({ t: { $ref: '/event/data/none', format: 'iso8601-seconds', default: null } })).toEqual({
      t: null,
    });
  });

  it('accepts a bare constant or a whole $ref as the template', () => {
    expect(render({ $ref: '/event/data' })).toEqual(source.event.data);
    expect(render('ping')).toBe('ping');
  });

  it.each<[string, unknown, string]>([
    ['a misspelt directive', { id: { $reff: '/event/id' } }, 'id.$reff: keys starting with $ are directives'],
    [
      'an unknown root',
      { id: { $ref: '/request/id' } },
      'id.$ref: must start with /event/<field> or /delivery/<field>',
    ],
    ['an unknown event field', { id: { $ref: '/event/createdAt' } }, '/event has no field "createdAt"'],
    [
      'a pointer into a scalar field',
      { id: { $ref: '/event/type/0' } },
      '/event/type has no fields to point into',
    ],
    ['a relative pointer', { id: { $ref: 'event/id' } }, 'must start with /event/<field>'],
    ['a bad escape', { id: { $ref: '/event/data/a~2' } }, 'must be escaped'],
    ['the prototype', { id: { $ref: '/event/data/__proto__' } }, 'must not name __proto__'],
    ['a non-string pointer', { id: { $ref: 7 } }, 'must be a JSON Pointer string'],
    [
      'extra keys beside $ref',
      { id: { $ref: '/event/id', as: 'x' } },
      'takes only "$ref", "default" and "format"',
    ],
    [
      'an unknown timestamp format',
      { t: { $ref: '/event/occurredAt', format: 'unix' } },
      't.format: must be one of iso8601-seconds, iso8601-millis',
    ],
    [
      'an inherited name as a timestamp format',
      { t: { $ref: '/event/occurredAt', format: 'toString' } },
      't.format: must be one of',
    ],
    [
      'a non-string timestamp format',
      { t: { $ref: '/event/occurredAt', format: { x: 1 } } },
      't.format: must be one of',
    ],
    [
      'an object default',
      { id: { $ref: '/event/id', default: {} } },
      'must be a string, number, boolean or null',
    ],
    ['extra keys beside $const', { id: { $const: 1, x: 2 } }, 'takes only "$const"'],
    ['a bad spread pointer', { $spread: ['/event/data', '/nowhere'] }, '$spread.1: must start with'],
  ])('refuses %s with a message naming where', (_case, template, expected) => {
    expect(issuesOf(template).join('\n')).toContain(expected);
  });

  it('refuses templates past the size, depth and node limits', () => {
    let deep: PayloadTemplate = 'x';
    for (let level = 0; level <= PAYLOAD_TEMPLATE_LIMITS.maxDepth; level += 1) deep = { n: deep };
    expect(issuesOf(deep).join()).toContain('nested deeper than');
    expect(issuesOf({ big: 'x'.repeat(PAYLOAD_TEMPLATE_LIMITS.maxBytes) }).join()).toContain('bytes of JSON');
    const wide = Object.fromEntries(
      Array.from({ length: PAYLOAD_TEMPLATE_LIMITS.maxNodes }, (_, i) => [`k${i}`, i]),
    );
    expect(issuesOf(wide).join()).toContain('at most 256 values');
  });

  it('refuses what is not JSON', () => {
    expect(issuesOf(undefined)).not.toEqual([]);
    expect(issuesOf({ f: () => 1 })).not.toEqual([]);
  });
});
