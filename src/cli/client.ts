// GraphQL over HTTP to the tagraph server; a refused request or a typed error becomes a CliError.
import { CliError } from './errors.ts';

/**
 * Selected on a mutation result: a typed error says what went wrong and where. A union only
 * admits fragments on its own members, so the details of validation and conflict errors are
 * asked for where the mutation can return them.
 */
export function errorFields(members: { validation?: boolean; conflict?: boolean } = {}): string {
  return [
    '__typename ... on Error { code field message }',
    members.validation ? '... on ValidationError { problems { field message } }' : '',
    members.conflict ? '... on ConflictError { candidates }' : '',
  ].join(' ');
}

/** ValidationError and ConflictError are both members (tag, deleteTag, updateImageStream, …). */
export const ERROR_FIELDS = errorFields({ validation: true, conflict: true });

export interface TypedError {
  __typename: string;
  code: string;
  field: string | null;
  message: string;
  problems?: { field: string; message: string }[];
  candidates?: string[];
}

/** A mutation result: the payload, or one of the schema's typed errors. */
export type Outcome<T> = (T & { __typename: string }) | TypedError;

export function isTypedError(value: { __typename: string }): value is TypedError {
  return 'code' in value && 'message' in value && value.__typename.endsWith('Error');
}

/** The API's field names, where a CLI user knows them as flags. */
const FLAG_WORDS: [RegExp, string][] = [
  [/\bpass confirm\b/g, 'pass --confirm'],
  [/\bgive from\b/g, 'give --from'],
];

function cliWording(message: string): string {
  return FLAG_WORDS.reduce((text, [pattern, flag]) => text.replace(pattern, flag), message);
}

/** The lines a typed error prints: its message, or each problem of a validation error. */
export function errorLines(error: TypedError): string[] {
  if (error.problems && error.problems.length > 0) {
    return [...new Set(error.problems.map((p) => cliWording(p.message)))];
  }
  const lines = [cliWording(error.message)];
  if (error.candidates && error.candidates.length > 0) {
    lines.push(`candidates: ${error.candidates.join(', ')}`);
  }
  return lines;
}

export function typedErrorToCli(error: TypedError, prefix = ''): CliError {
  const [first, ...rest] = errorLines(error);
  return new CliError(`${prefix}${first}`, rest);
}

/** Throws the typed error as a CliError, else returns the payload. */
export function unwrap<T>(outcome: Outcome<T>, prefix = ''): T {
  if (isTypedError(outcome)) throw typedErrorToCli(outcome, prefix);
  return outcome as T;
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

export class GraphQLClient {
  constructor(
    readonly url: string,
    readonly token: string | null,
  ) {}

  get headers(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          ...this.headers,
        },
        body: JSON.stringify({ query, variables }),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `cannot reach the tagraph server at ${this.url}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
        ['set the address with --server, TAGRAPH_SERVER or "server" in the config file'],
      );
    }
    const text = await response.text();
    let body: GraphQLResponse<T> | undefined;
    try {
      body = JSON.parse(text) as GraphQLResponse<T>;
    } catch {
      body = undefined;
    }
    const messages = body?.errors?.map((e) => e.message) ?? [];
    if (response.status === 401) {
      throw new CliError(`unauthorized: ${messages[0] ?? 'the server wants a token'}`, [
        this.token
          ? 'the token was refused: check --token, TAGRAPH_TOKEN or "token" in the config file'
          : 'pass a token with --token, TAGRAPH_TOKEN or "token" in the config file',
      ]);
    }
    if (!body) {
      throw new CliError(
        `the server at ${this.url} answered HTTP ${response.status} without a GraphQL response`,
      );
    }
    if (messages.length > 0 && !body.data) {
      const [first, ...rest] = messages;
      throw new CliError(first!, rest);
    }
    if (messages.length > 0) {
      // Partial data with field errors (e.g. forbidden): a user error all the same.
      const [first, ...rest] = messages;
      throw new CliError(first!, rest);
    }
    return body.data as T;
  }
}
