/** Start-up cannot proceed: bad or missing configuration, or a dependency that does not answer. */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}
