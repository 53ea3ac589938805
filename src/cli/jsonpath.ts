// The part of kubectl's JSONPath templates (`-o jsonpath=…`) that scripts use: fields, indexes,
// `[*]`, `{range …}{end}` and quoted literals. Filters (`[?(…)]`) and slices are refused.
import { CliError } from './errors.ts';

type Segment = { key: string } | { index: number } | { all: true };

interface Path {
  /** `$`: from the document root; otherwise from the current `range` item. */
  root: boolean;
  segments: Segment[];
}

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'field'; path: Path }
  | { kind: 'range'; path: Path; body: Node[] };

/** Parses a template such as `{range .items[*]}{.metadata.name}{'\n'}{end}`. */
export function parseTemplate(template: string): Node[] {
  const stack: { body: Node[]; path?: Path }[] = [{ body: [] }];
  let rest = template;
  while (rest.length > 0) {
    const open = rest.indexOf('{');
    if (open < 0) {
      stack.at(-1)!.body.push({ kind: 'text', text: rest });
      break;
    }
    if (open > 0) stack.at(-1)!.body.push({ kind: 'text', text: rest.slice(0, open) });
    const close = closingBrace(rest, open);
    const action = rest.slice(open + 1, close).trim();
    rest = rest.slice(close + 1);
    if (action === 'end') {
      const done = stack.pop();
      if (!done?.path || stack.length === 0) throw templateError(template, 'unexpected {end}');
      stack.at(-1)!.body.push({ kind: 'range', path: done.path, body: done.body });
    } else if (action.startsWith('range ')) {
      stack.push({ body: [], path: parsePath(action.slice(6).trim(), template) });
    } else if (/^(['"]).*\1$/s.test(action)) {
      stack.at(-1)!.body.push({ kind: 'text', text: unquote(action) });
    } else {
      stack.at(-1)!.body.push({ kind: 'field', path: parsePath(action, template) });
    }
  }
  if (stack.length !== 1) throw templateError(template, '{range} without {end}');
  return stack[0]!.body;
}

function closingBrace(text: string, open: number): number {
  let quote: string | null = null;
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '}') return i;
  }
  throw templateError(text, 'unclosed {');
}

function unquote(literal: string): string {
  const body = literal.slice(1, -1);
  return body.replace(/\\(.)/g, (_, c: string) =>
    c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : c,
  );
}

function templateError(template: string, why: string): CliError {
  return new CliError(`error parsing jsonpath ${template}: ${why}`);
}

function parsePath(text: string, template: string): Path {
  let rest = text;
  let root = false;
  if (rest.startsWith('$')) {
    root = true;
    rest = rest.slice(1);
  } else if (rest.startsWith('@')) {
    rest = rest.slice(1);
  }
  const segments: Segment[] = [];
  while (rest.length > 0) {
    const field = /^\.([^.[\]]+)/.exec(rest);
    if (field) {
      segments.push(field[1] === '*' ? { all: true } : { key: field[1]! });
      rest = rest.slice(field[0].length);
      continue;
    }
    if (rest === '.') break;
    const bracket = /^\[(\*|-?\d+|'[^']*'|"[^"]*")\]/.exec(rest);
    if (!bracket) throw templateError(template, `unsupported expression ${rest}`);
    const inner = bracket[1]!;
    segments.push(
      inner === '*'
        ? { all: true }
        : /^-?\d+$/.test(inner)
          ? { index: Number(inner) }
          : { key: inner.slice(1, -1) },
    );
    rest = rest.slice(bracket[0].length);
  }
  return { root, segments };
}

function evaluate(path: Path, root: unknown, current: unknown): unknown[] {
  let values = [path.root ? root : current];
  for (const segment of path.segments) {
    const next: unknown[] = [];
    for (const value of values) {
      if ('all' in segment) {
        if (Array.isArray(value)) next.push(...value);
        else if (value && typeof value === 'object') next.push(...Object.values(value));
      } else if ('index' in segment) {
        if (Array.isArray(value)) {
          const item = value.at(segment.index);
          if (item !== undefined) next.push(item);
        }
      } else if (value && typeof value === 'object' && segment.key in value) {
        next.push((value as Record<string, unknown>)[segment.key]);
      }
    }
    values = next;
  }
  // A missing key prints nothing (kubectl's --allow-missing-template-keys, on by default).
  return values.filter((v) => v !== undefined);
}

function show(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function run(nodes: Node[], root: unknown, current: unknown): string {
  let out = '';
  for (const node of nodes) {
    if (node.kind === 'text') out += node.text;
    else if (node.kind === 'field') out += evaluate(node.path, root, current).map(show).join(' ');
    else for (const item of evaluate(node.path, root, current)) out += run(node.body, root, item);
  }
  return out;
}

/** Renders `template` over `data` as `kubectl get -o jsonpath=…` does. */
export function renderTemplate(template: string, data: unknown): string {
  return run(parseTemplate(template), data, data);
}
