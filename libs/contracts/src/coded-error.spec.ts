import { CodedError } from './coded-error';

enum ProbeCode {
  Refused = 'PROBE_REFUSED',
}

class ProbeError extends CodedError<ProbeCode, { readonly field: string }> {
  constructor(message: string, field: string, cause?: unknown) {
    super(ProbeCode.Refused, message, { field }, { cause });
  }
}

describe('CodedError', () => {
  it("carries the code, the message, the details, the cause and the subclass's name", () => {
    const cause = new Error('driver failed');
    const error = new ProbeError('probe refused', 'url', cause);
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(CodedError);
    expect(error.code).toBe('PROBE_REFUSED');
    expect(error.message).toBe('probe refused');
    expect(error.details).toEqual({ field: 'url' });
    expect(error.cause).toBe(cause);
    expect(error.name).toBe('ProbeError');
    expect(String(error)).toBe('ProbeError: probe refused');
  });
});
