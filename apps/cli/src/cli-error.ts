/** How the process ends: 1 when the operation failed, 2 when the command line or settings are wrong. */
export enum CliExitCode {
  Failed = 1,
  Usage = 2,
}

/** A failure the operator can act on: printed as one line on stderr, then the process exits with its code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: CliExitCode = CliExitCode.Failed,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
