// GraphQL over HTTP to the tagraph server; a refused request or a typed error becomes a CliError.
import { CliError, forbidden } from './errors.ts';
import {
  type AnyDocument,
  type Copies,
  type CopyResult,
  copiedDocument,
  copiedVariables,
  documentText,
  type ResultOf,
  textHash,
  type VariablesOf,
} from './graphql.ts';

/**
 * A typed error as the CLI's documents select it (ErrorFields, with ValidationProblems and
 * ConflictCandidates where the mutation can return those): what went wrong and where.
 */
export interface TypedError {
  __typename: `${string}Error`;
  code: string;
  field: string | null;
  message: string;
  problems?: { field: string; message: string }[];
  candidates?: string[];
}

/** The typed errors among a result's members. */
type ErrorMember<T> = Extract<T, { __typename: `${string}Error` }>;

export function isTypedError<T extends { __typename: string }>(value: T): value is ErrorMember<T> {
  return 'code' in value && 'message' in value && value.__typename.endsWith('Error');
}

/** The API's field names, where a CLI user knows them as flags. */
const FLAG_WORDS: [RegExp, string][] = [
  [/\bpass confirm\b/g, 'pass --confirm'],
  [/\bgive from\b/g, 'give --from'],
  [/\bas well as all\b/g, 'as well as --all'],
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
  if (error.code === 'FORBIDDEN') return forbidden(`${prefix}${first}`, rest);
  return new CliError(`${prefix}${first}`, rest);
}

/** Refuses, at compile time, a result whose typed errors lack what errorLines reads. */
type SelectsErrorFields<T> = [ErrorMember<T>] extends [TypedError]
  ? unknown
  : { 'the document must select ...ErrorFields on its errors': never };

/** Throws the typed error as a CliError, else returns the payload. */
export function unwrap<T extends { __typename: string }>(
  outcome: T & SelectsErrorFields<T>,
  prefix = '',
): Exclude<T, ErrorMember<T>> {
  if (isTypedError<T>(outcome)) throw typedErrorToCli(outcome as unknown as TypedError, prefix);
  return outcome as Exclude<T, ErrorMember<T>>;
}

/** What to do when a trusted-documents server does not list the CLI's documents. */
export const UNTRUSTED_CLI_HINT =
  "the server runs trusted documents only and does not list this CLI's: add this tagraph version's dist/cli-documents.json to its TAGRAPH_TRUSTED_DOCUMENTS";

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

  /** Sends `document`; its result, or a CliError when the server refused it. */
  request<D extends AnyDocument>(document: D, variables: VariablesOf<D>): Promise<ResultOf<D>> {
    return this.send(documentText(document), variables as Record<string, unknown>);
  }

  /**
   * Sends `spec`'s root field once per item of `each` (at most `spec.max`), in one request;
   * each copy's result in order.
   */
  async requestCopies<D extends AnyDocument, S extends keyof VariablesOf<D>>(
    spec: Copies<D, S>,
    shared: Pick<VariablesOf<D>, S>,
    each: readonly Omit<VariablesOf<D>, S>[],
  ): Promise<CopyResult<D>[]> {
    if (each.length === 0) return [];
    if (each.length > spec.max) throw new Error(`at most ${spec.max} copies fit one request`);
    const data = await this.send<Record<string, CopyResult<D>>>(
      documentText(copiedDocument(spec as Copies<AnyDocument, string>, each.length)),
      copiedVariables<D, S>(shared, each),
    );
    return each.map((_, i) => data[`${spec.alias}${i}`]!);
  }

  /**
   * Sends a document by its hash (`extensions.persistedQuery`), as a server in trusted-documents
   * mode wants it; the text follows only when the server does not know the hash (automatic
   * persisted queries keep it then).
   */
  private async send<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    const extensions = { persistedQuery: { version: 1, sha256Hash: textHash(query) } };
    let reply = await this.post<T>({ extensions, variables });
    if (reply.body?.errors?.[0]?.extensions?.code === 'PERSISTED_QUERY_NOT_FOUND') {
      reply = await this.post<T>({ query, extensions, variables });
    }
    const { response, body } = reply;
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
    if (messages.length > 0) {
      // With or without partial data, a field error (e.g. forbidden) is a user error.
      const [first, ...rest] = messages;
      if (body.errors?.[0]?.extensions?.code === 'PERSISTED_QUERY_ONLY') {
        throw new CliError(first!, [UNTRUSTED_CLI_HINT]);
      }
      if (body.errors?.[0]?.extensions?.code === 'FORBIDDEN') throw forbidden(first!, rest);
      throw new CliError(first!, rest);
    }
    return body.data as T;
  }

  /** POSTs one GraphQL request; the response and its body when that is JSON. */
  private async post<T>(
    request: Record<string, unknown>,
  ): Promise<{ response: Response; body: GraphQLResponse<T> | undefined }> {
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          ...this.headers,
        },
        body: JSON.stringify(request),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `cannot reach the tagraph server at ${this.url}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
        ['set the address with --server, TAGRAPH_SERVER or "server" in the config file'],
      );
    }
    const text = await response.text();
    try {
      return { response, body: JSON.parse(text) as GraphQLResponse<T> };
    } catch {
      return { response, body: undefined };
    }
  }
}
