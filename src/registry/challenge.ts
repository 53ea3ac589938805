// Parses WWW-Authenticate challenges (RFC 9110 §11.6.1) into a scheme and its parameters.
//
// Hand-written on purpose: the npm parsers (http-auth-utils, rfc7235-parser) would be new
// dependencies for ~50 lines. Only what registries
// send is needed — `Basic realm="x"` and `Bearer realm="…",service="…",scope="a:b:pull,push"`,
// several challenges in one header or in repeated headers — so token68 credentials (`Negotiate
// abc==`) are not supported: such a challenge parses with no parameters.

export interface Challenge {
  /** Lowercased: `basic`, `bearer`. */
  scheme: string;
  /** Parameter names lowercased; quoted values unquoted and unescaped. */
  params: Record<string, string>;
}

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;

export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const values = Array.isArray(header) ? header : [header];
  return values.flatMap(parseOne);
}

function parseOne(input: string): Challenge[] {
  const challenges: Challenge[] = [];
  let current: Challenge | null = null;
  let i = 0;
  const skip = (chars: RegExp) => {
    while (i < input.length && chars.test(input[i]!)) i++;
  };
  while (i < input.length) {
    skip(/[\s,]/);
    TOKEN.lastIndex = i;
    const match = TOKEN.exec(input);
    if (!match) break; // not a token where one must be: give up on the rest
    i = TOKEN.lastIndex;
    skip(/\s/);
    if (input[i] !== '=' || current === null) {
      // A token not followed by `=` starts a new challenge.
      current = { scheme: match[0].toLowerCase(), params: {} };
      challenges.push(current);
      continue;
    }
    i++; // past '='
    skip(/\s/);
    let value = '';
    if (input[i] === '"') {
      i++;
      while (i < input.length && input[i] !== '"') {
        if (input[i] === '\\') i++;
        value += input[i] ?? '';
        i++;
      }
      i++; // past the closing quote
    } else {
      const start = i;
      while (i < input.length && !/[\s,]/.test(input[i]!)) i++;
      value = input.slice(start, i);
    }
    current.params[match[0].toLowerCase()] = value;
  }
  return challenges;
}
