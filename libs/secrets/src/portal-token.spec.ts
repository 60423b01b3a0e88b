import { generatePortalToken, hashPortalToken, portalTokenKindOf } from './portal-token';

describe('portal tokens', () => {
  it('makes link and session tokens of their own shape, stored by a hash that matches only them', () => {
    const link = generatePortalToken('link');
    const session = generatePortalToken('session');
    expect(link.token).toMatch(/^spl_[A-Za-z0-9_-]{43}$/);
    expect(session.token).toMatch(/^sps_[A-Za-z0-9_-]{43}$/);
    expect(portalTokenKindOf(link.token)).toBe('link');
    expect(portalTokenKindOf(session.token)).toBe('session');
    expect(hashPortalToken(link.token)).toBe(link.hash);
    expect(link.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashPortalToken(session.token)).not.toBe(link.hash);
  });

  it('never makes the same token twice', () => {
    const tokens = new Set(Array.from({ length: 200 }, () => generatePortalToken('session').token));
    expect(tokens.size).toBe(200);
  });

  it.each([
    'sk_abc',
    'spl_',
    `sps_${'a'.repeat(42)}`,
    `sps_${'a'.repeat(44)}`,
    `spl_${'!'.repeat(43)}`,
    `SPL_${'a'.repeat(43)}`,
  ])('is not fooled by %s', (presented) => {
    expect(portalTokenKindOf(presented)).toBeUndefined();
  });
});
