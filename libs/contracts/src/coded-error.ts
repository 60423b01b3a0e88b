/**
 * The shape Skyhook's errors share: a stable, machine-readable `code` that callers branch on and
 * the api maps to one HTTP status at its edge, a one-line message safe to log, and `details` for
 * what the code needs said (the failing fields, an event id). Each library narrows `code` to its
 * own enum. `name` is the subclass's, so logs say which error it was.
 */
export abstract class CodedError<TCode extends string, TDetails = unknown> extends Error {
  protected constructor(
    readonly code: TCode,
    message: string,
    readonly details: TDetails,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
