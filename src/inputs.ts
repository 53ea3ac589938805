// Refuses operations that carry a NUL character in any string input (variables or literals)
// before they execute: Postgres text and jsonb cannot hold U+0000, so such a value could only
// fail deep inside a write as an internal error. One check for every field, over HTTP and
// graphql-ws alike (both run through yoga's envelop hooks).
import { type ASTNode, type DocumentNode, GraphQLError, Kind, visit } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** The character no stored text may contain. */
const NUL = '\u0000';

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
 * Paths (`$input.annotations[2].value`) of the strings in `value` that contain NUL, also in
 * object keys. Stops after MAX_REPORTED finds; values nested past MAX_VARIABLE_DEPTH are
 * reported as too deep rather than walked.
 */
export function nulPaths(value: unknown, path: string, found: string[] = [], depth = 0): string[] {
  if (found.length >= MAX_REPORTED) return found;
  if (typeof value === 'string') {
    if (value.includes(NUL)) found.push(path);
  } else if (Array.isArray(value)) {
    if (depth >= MAX_VARIABLE_DEPTH) {
      found.push(`${path} (nested too deep)`);
      return found;
    }
    value.forEach((item, i) => {
      nulPaths(item, `${path}[${i}]`, found, depth + 1);
    });
  } else if (typeof value === 'object' && value !== null) {
    if (depth >= MAX_VARIABLE_DEPTH) {
      found.push(`${path} (nested too deep)`);
      return found;
    }
    for (const [key, item] of Object.entries(value)) {
      if (key.includes(NUL)) found.push(`${path} (a key)`);
      nulPaths(item, `${path}.${key}`, found, depth + 1);
    }
  }
  return found;
}

/** A string literal holding NUL: where it is, for the message, and its node. */
interface NulLiteral {
  path: string;
  node: ASTNode;
}

/** String literals of a document that contain NUL, named by field, argument and input field. */
function nulLiterals(document: DocumentNode): NulLiteral[] {
  const found: NulLiteral[] = [];
  visit(document, {
    StringValue(node, _key, _parent, _path, ancestors) {
      if (!node.value.includes(NUL) || found.length >= MAX_REPORTED) return;
      const names: string[] = [];
      for (const ancestor of ancestors) {
        if (Array.isArray(ancestor)) continue;
        const a = ancestor as ASTNode;
        if (a.kind === Kind.FIELD) names.push((a.alias ?? a.name).value);
        else if (a.kind === Kind.ARGUMENT) names.push(`(${a.name.value})`);
        else if (a.kind === Kind.OBJECT_FIELD) names.push(`.${a.name.value}`);
        else if (a.kind === Kind.DIRECTIVE) names.push(`@${a.name.value}`);
      }
      found.push({ path: names.join('') || 'a string literal', node });
    },
  });
  return found;
}

const MESSAGE = 'contains a NUL character (U+0000), which no stored text may hold';

/**
 * The check, as a yoga plugin: a document's literals are walked once (yoga hands the same parsed
 * document to every request of one query text), each request's variables on every execution.
 */
export function nulInputGuard(): Plugin {
  const literalsByDocument = new WeakMap<DocumentNode, NulLiteral[]>();
  const errorsFor = (document: DocumentNode, variables: unknown): GraphQLError[] => {
    let literals = literalsByDocument.get(document);
    if (!literals) {
      literals = nulLiterals(document);
      literalsByDocument.set(document, literals);
    }
    const errors = literals.map(({ path, node }) =>
      badInput(`Argument ${path} ${MESSAGE}`, [node]),
    );
    if (variables && typeof variables === 'object') {
      for (const [name, value] of Object.entries(variables)) {
        for (const path of nulPaths(value, `$${name}`)) {
          errors.push(badInput(`Variable ${path} ${MESSAGE}`));
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
