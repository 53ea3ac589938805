// The two ways a command fails: a user error (exit 1) and a command line that does not parse (2).

/** Something is wrong with what was asked (or the server refused it): exit code 1. */
export class CliError extends Error {
  readonly exitCode: number = 1;
  /** Further lines printed after the first, each as its own `error:` line. */
  readonly details: string[];

  constructor(message: string, details: string[] = []) {
    super(message);
    this.details = details;
  }
}

/** The command line itself is malformed (missing or extra arguments, bad flag syntax): exit 2. */
export class UsageError extends CliError {
  override readonly exitCode: number = 2;
}
