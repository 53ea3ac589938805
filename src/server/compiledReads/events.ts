// The tag change log's pages (`tagEvents`) in the compiled statement: the events after a cursor,
// oldest first, as listEvents reads them and the TagChangeEvent fields write them.
import type { FieldNode } from 'graphql';
import { CHANGE_CAUSES } from '../../events/append.ts';
import { filterArgument } from './filters.ts';
import { policyFallback, tag } from './graph.ts';
import {
  dateTime,
  eventCursor,
  fieldsOf,
  hasMoreRows,
  leaf,
  noArguments,
  type Out,
  object,
  objectOf,
  onlyArguments,
  type ParamSource,
  type Piece,
  pageSize,
  str,
  unsupported,
} from './statement.ts';

/** The page size without `first` (the argument's default). */
const DEFAULT_EVENTS = 50;

/** A JSON object of a payload part, or null when it is not one (the resolver's `?? null`). */
function payloadObject(
  out: Out,
  field: FieldNode,
  part: string,
  typename: string,
  keys: Record<string, string>,
): void {
  noArguments(field);
  out.push(`(case when jsonb_typeof(${part}) = 'object' then `);
  objectOf(out, field, typename, (f) => {
    leaf(f);
    const key = keys[f.name.value];
    if (!key) unsupported(`${typename}.${f.name.value}`);
    out.push(str(`${part}->>'${key}'`));
  });
  out.push(" else 'null' end)");
}

const CAUSES = Object.entries(CHANGE_CAUSES)
  .map(([stored, name]) => `when '${stored}' then '"${name}"'`)
  .join(' ');

function tagChangeEvent(out: Out, fields: FieldNode[], e: string, namespace: ParamSource): void {
  object(out, fields, 'TagChangeEvent', (f) => {
    const name = f.name.value;
    const payload = `${e}.payload`;
    if (name === 'previous' || name === 'current') {
      return payloadObject(out, f, `${payload}->'${name}'`, 'TagHead', {
        digest: 'digest',
        dockerImageReference: 'reference',
      });
    }
    if (name === 'importFailure') {
      return payloadObject(out, f, `${payload}->'importFailure'`, 'ImportFailure', {
        reason: 'reason',
        message: 'message',
      });
    }
    if (name === 'actor') {
      return payloadObject(out, f, `${e}.actor`, 'Actor', {
        kind: 'kind',
        subject: 'subject',
        tokenId: 'tokenId',
        source: 'source',
        requestId: 'requestId',
      });
    }
    if (name === 'imageStreamTag') {
      // The tag as it is now, found by the event's names; null once deleted.
      noArguments(f);
      const t = out.alias('t');
      const s = out.alias('s');
      out.push('coalesce((select ');
      tag(out, fieldsOf(out, f.selectionSet, 'ImageStreamTag'), t);
      out.push(
        ` from tags ${t} join image_streams ${s} on ${s}.id = ${t}.stream_id where ${s}.namespace = ${e}.namespace and ${s}.name = ${e}.stream and ${t}.name = coalesce(${e}.tag, '')), 'null')`,
      );
      policyFallback(out, namespace, null);
      return;
    }
    leaf(f);
    if (name === 'cursor') out.push(eventCursor(`${e}.seq`));
    else if (name === 'type') out.push(str(`${e}.type`));
    else if (name === 'cause') out.push(`(case ${e}.cause ${CAUSES} else '"UPDATE"' end)`);
    else if (name === 'time') out.push(dateTime(`${e}.at`));
    else if (name === 'namespace' || name === 'stream') out.push(str(`${e}.${name}`));
    else if (name === 'tag') out.push(str(`coalesce(${e}.tag, '')`));
    else if (name === 'prunedGenerations') {
      const g = out.alias('g');
      const pruned = `${payload}->'pruned'`;
      out.push(
        `(case when jsonb_typeof(${pruned}) = 'array' then (select '[' || coalesce(string_agg(${g}.v::text, ',' order by ${g}.n), '') || ']' from jsonb_array_elements(${pruned}) with ordinality ${g}(v, n)) else 'null' end)`,
      );
    } else unsupported(`TagChangeEvent.${name}`);
  });
}

/**
 * `tagEvents(namespace, stream, tag, filter, after, first)`: the page listEvents reads. Its
 * fallback holds when an event is still to be numbered (the ordinary path numbers it first) and
 * when the cursor is beyond the log's newest event or older than its trimmed part (cursorId's
 * errors).
 */
export function tagEvents(out: Out, field: FieldNode, namespaces: ParamSource[]): void {
  onlyArguments(field, ['namespace', 'stream', 'tag', 'filter', 'after', 'first']);
  const namespace = out.stringArg(field, 'namespace');
  namespaces.push(namespace);
  const stream = out.optionalStringArg(field, 'stream');
  const tagName = out.optionalStringArg(field, 'tag');
  const where = filterArgument(out, field, 'events');
  const size = pageSize(field, DEFAULT_EVENTS);
  const after = out.cursorArg(field, { list: false, name: 'events' });
  const position: Piece[] = after ? ['(', { cursorKey: after, index: 0 }, ')::bigint'] : [];
  out.fallbackWhen('exists (select 1 from events where seq is null)');
  if (after) {
    out.fallbackWhen(
      { variable: after },
      ' is not null and (',
      ...position,
      ' > (select greatest(coalesce(max(trimmed_through), 0), coalesce((select max(seq) from events), 0)) from event_log_state) or ',
      ...position,
      ' < (select coalesce(max(trimmed_through), 0) from event_log_state))',
    );
  }
  /** `(select * from events … order by seq [desc] limit n) row` */
  const rows = (e: string, limit: number, order = 'asc') => {
    out.push(`(select * from events ${e} where ${e}.namespace = `, namespace);
    out.push(` and ${e}.tag is not null`);
    // A null name (a nullable variable not given) narrows nothing, as in the resolver.
    if (stream) out.push(' and (', stream, ` is null or ${e}.stream = `, stream, ')');
    if (tagName) out.push(' and (', tagName, ` is null or ${e}.tag = `, tagName, ')');
    out.push(
      ...where(e),
      ` and ${e}.seq > `,
      ...(after ? ['coalesce(', ...position, ', 0)'] : ['0']),
    );
    out.push(` order by ${e}.seq asc limit ${limit}) ${e}`);
    if (order === 'desc') out.push(` order by ${e}.seq desc limit 1`);
  };
  objectOf(out, field, 'TagEventPage', (f) => {
    const name = f.name.value;
    if (name === 'events') {
      noArguments(f);
      const e = out.alias('e');
      const eventFields = fieldsOf(out, f.selectionSet, 'TagChangeEvent');
      out.push("(select coalesce('[' || string_agg(");
      tagChangeEvent(out, eventFields, e, namespace);
      out.push(`, ',' order by ${e}.seq) || ']', '[]') from `);
      rows(e, size);
      out.push(')');
      return;
    }
    leaf(f);
    const e = out.alias('e');
    if (name === 'hasNextPage') {
      hasMoreRows(out, size, (limit) => rows(e, limit));
    } else if (name === 'endCursor') {
      // The last event's cursor, or the `after` given (the resolver's `args.after ?? null`).
      out.push(`coalesce((select ${eventCursor(`${e}.seq`)} from `);
      rows(e, size, 'desc');
      out.push('), ', ...(after ? ['to_json(', { variable: after }, '::text)::text, '] : []));
      out.push("'null')");
    } else unsupported(`TagEventPage.${name}`);
  });
}
