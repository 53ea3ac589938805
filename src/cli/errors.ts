// The two ways a command fails: a user error (exit 1) and a command line that does not parse (2).

/** Something is wrong with what was asked (or the server refused it): exit code 1. */
export class CliError extends Error {
  readonly exitCode: number = 1;
  /** What the first line starts with. */
  readonly prefix: string = 'error: ';
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

/** Lines printed exactly as given (each already says what it is): several refusals of one run. */
export class PrintedError extends CliError {
  override readonly prefix: string = '';
}

/** The Kubernetes resource names the image-stream kinds are refused and not found under. */
export const RESOURCE_PLURALS = {
  is: 'imagestreams.image.openshift.io',
  istag: 'imagestreamtags.image.openshift.io',
  isimage: 'imagestreamimages.image.openshift.io',
} as const;

/**
 * A refusal from the server, printed as oc prints an API status error, so that scripts grepping
 * for `Error from server (NotFound)` work unchanged: `Error from server (<reason>): <message>`.
 */
export class ServerError extends CliError {
  override readonly prefix: string = '';

  constructor(
    readonly reason: 'NotFound' | 'Forbidden' | 'AlreadyExists' | 'BadRequest' | 'Conflict',
    message: string,
    details: string[] = [],
  ) {
    super(`Error from server (${reason}): ${message}`, details);
  }
}

/** `Error from server (NotFound): imagestreams.image.openshift.io "x" not found`. */
export function notFound(type: keyof typeof RESOURCE_PLURALS, name: string): ServerError {
  return new ServerError('NotFound', `${RESOURCE_PLURALS[type]} "${name}" not found`);
}

/** `Error from server (AlreadyExists): imagestreams.image.openshift.io "x" already exists`. */
export function alreadyExists(type: keyof typeof RESOURCE_PLURALS, name: string): ServerError {
  return new ServerError('AlreadyExists', `${RESOURCE_PLURALS[type]} "${name}" already exists`);
}

/** The API server's refusal of an image stream tag name without a tag (or without a stream). */
export function istagNameRefused(): ServerError {
  return new ServerError('BadRequest', 'ImageStreamTags must be retrieved with <name>:<tag>');
}

/**
 * A server's `forbidden: User "u" cannot get resource "imagestreams" …` in the form oc prints:
 * `Error from server (Forbidden): imagestreams.image.openshift.io is forbidden: User "u" …`.
 */
export function forbidden(message: string, details: string[] = []): ServerError {
  const text = message.replace(/^forbidden: /, '');
  const resource = /cannot \S+ resource "([^"]+)"/.exec(text)?.[1];
  const group = resource?.startsWith('image') ? `${resource}.image.openshift.io` : resource;
  return new ServerError('Forbidden', group ? `${group} is forbidden: ${text}` : text, details);
}
