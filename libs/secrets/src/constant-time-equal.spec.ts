import { constantTimeEqual } from './constant-time-equal';

describe('constantTimeEqual', () => {
  it('is true for equal strings', () => {
    expect(constantTimeEqual('v1,abc123', 'v1,abc123')).toBe(true);
  });

  it('is false for strings that differ in one character', () => {
    expect(constantTimeEqual('v1,abc123', 'v1,abc124')).toBe(false);
  });

  it('is false, without throwing, for strings of different lengths', () => {
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual('', 'a')).toBe(false);
  });

  it('treats the empty strings as equal', () => {
    expect(constantTimeEqual('', '')).toBe(true);
  });
});
