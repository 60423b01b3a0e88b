import { z } from 'zod';
import { compileJsonSchemaAcceptor } from './json-schema-acceptor';

describe('JSON Schema acceptor', () => {
  it('refuses to compile what it could not hold to zod’s verdict', () => {
    const refined = z.strictObject({ id: z.string() }).refine((value) => value.id !== 'x');
    expect(() => compileJsonSchemaAcceptor(refined)).toThrow('a refinement without a JSON Schema equivalent');
    expect(() => compileJsonSchemaAcceptor(z.strictObject({ id: z.string().default('x') }))).toThrow(
      'a default',
    );
    expect(() => compileJsonSchemaAcceptor(z.string().transform((text) => text.length))).toThrow();
    expect(
      compileJsonSchemaAcceptor(
        refined,
        new Map([[refined, { not: { properties: { id: { const: 'x' } } } }]]),
      )({
        id: 'x',
      }),
    ).toBe(false);
  });
});
