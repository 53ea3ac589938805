// Refuses operations that carry a string no database text can hold, in any input (variables or
// literals), before they execute: Postgres text and jsonb cannot hold U+0000, and jsonb refuses a
// lone UTF-16 surrogate, so such a value could only fail deep inside a write as an internal
// error. One check for every field, over HTTP, SSE and graphql-ws alike (all run through yoga's
// envelop hooks).
import { type ASTNode, type DocumentNode, GraphQLError, Kind, visit } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { unstorable } from './domain/storableText.ts';

/** Deeper nesting than any input type of the schema has; a deeper value is refused as such. */
const MAX_VARIABLE_DEPTH = 32;

/** Errors name at most this many offending inputs (one is enough to act on). */
const MAX_REPORTED = 10;

function badInput(message: string, nodes?: readonly ASTNode[]): GraphQLError {
  return new GraphQLError(message, {
    ...(nodes ? { nodes } : {}),
    extensions: { code: 'BAD_USER_INPUT' },
  });
}

/**
 * Where `value` holds a string that `problem` objects to, object keys included, as
 * `$input.annotations[2].value contains …`. Stops after MAX_REPORTED finds; a value nested past
 * MAX_VARIABLE_DEPTH is reported as too deep rather than walked.
 */
export function badStrings(
  value: unknown,
  path: string,
  problem: (text: string) => string | null = unstorable,
  found: string[] = [],
  depth = 0,
): string[] {
  if (found.length >= MAX_REPORTED) return found;
  if (typeof value === 'string') {
    const wrong = problem(value);
    if (wrong) found.push(`${path} ${wrong}`);
    return found;
  }
  if (typeof value !== 'object' || value === null) return found;
  if (depth >= MAX_VARIABLE_DEPTH) {
    found.push(`${path} is nested more than ${MAX_VARIABLE_DEPTH} levels deep`);
    return found;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      badStrings(item, `${path}[${i}]`, problem, found, depth + 1);
    });
    return found;
  }
  for (const [key, item] of Object.entries(value)) {
    const wrongKey = problem(key);
    if (wrongKey) found.push(`a key of ${path} ${wrongKey}`);
    badStrings(item, `${path}.${key}`, problem, found, depth + 1);
  }
  return found;
}

/** An unstorable string literal: the message naming where it is, and its node. */
interface BadLiteral {
  message: string;
  node: ASTNode;
}

/** Unstorable string literals of a document, named by field, argument and input field. */
function badLiterals(document: DocumentNode): BadLiteral[] {
  const found: BadLiteral[] = [];
  visit(document, {
    StringValue(node, _key, _parent, _path, ancestors) {
      const wrong = found.length < MAX_REPORTED ? unstorable(node.value) : null;
      if (!wrong) return;
      const names: string[] = [];
      for (const ancestor of ancestors) {
        if (Array.isArray(ancestor)) continue;
        const a = ancestor as ASTNode;
        if (a.kind === Kind.FIELD) names.push((a.alias ?? a.name).value);
        else if (a.kind === Kind.ARGUMENT) names.push(`(${a.name.value})`);
        else if (a.kind === Kind.OBJECT_FIELD) names.push(`.${a.name.value}`);
        else if (a.kind === Kind.DIRECTIVE) names.push(`@${a.name.value}`);
      }
      found.push({ message: `Argument ${names.join('') || 'a string literal'} ${wrong}`, node });
    },
  });
  return found;
}

/**
 * The check, as a yoga plugin: a document's literals are walked once (yoga hands the same parsed
 * document to every request of one query text), each request's variables on every execution.
 */
export function unstorableInputGuard(): Plugin {
  const literalsByDocument = new WeakMap<DocumentNode, BadLiteral[]>();
  const errorsFor = (document: DocumentNode, variables: unknown): GraphQLError[] => {
    let literals = literalsByDocument.get(document);
    if (!literals) {
      literals = badLiterals(document);
      literalsByDocument.set(document, literals);
    }
    const errors = literals.map(({ message, node }) => badInput(message, [node]));
    if (variables && typeof variables === 'object') {
      for (const [name, value] of Object.entries(variables)) {
        for (const message of badStrings(value, `$${name}`)) {
          errors.push(badInput(`Variable ${message}`));
        }
      }
    }
    return errors.slice(0, MAX_REPORTED);
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const errors = errorsFor(args.document, args.variableValues);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const errors = errorsFor(args.document, args.variableValues);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
  };
}
