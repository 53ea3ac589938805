// The compiled statement's tracking fields of a tag (`oc tag --alias`): the tag of its stream it
// follows and the tags that follow it, from the `tracks_tag` column the resolvers join on too.
import { type FieldNode, Kind } from 'graphql';
import { fieldsOf, list, noArguments, type Out, onlyArguments, unsupported } from './statement.ts';

/** Writes a tag row `t`'s object with `fields` (graph.ts's `tag`). */
export type TagWriter = (out: Out, fields: FieldNode[], t: string) => void;

/** `followers(transitive:)` as a literal; left out, false. */
function transitiveArg(field: FieldNode): boolean {
  onlyArguments(field, ['transitive']);
  const arg = field.arguments?.find((a) => a.name.value === 'transitive');
  if (!arg) return false;
  if (arg.value.kind !== Kind.BOOLEAN) unsupported('transitive that is not a literal');
  return arg.value.value;
}

/**
 * `follows` (the tag of the stream named by `tracks_tag`, or null) or `followers`: direct ones by
 * name as the relation orders them (the database's collation), without the tag itself; with
 * `transitive`, tracking.ts's `followers` — whole chains breadth first, each level in the order
 * of its parents and then by name as `Array#sort` orders names (the `C` collation), each tag once
 * and never the tag itself. Every tag follows at most one, so each is reached by one path, and
 * a cycle in stored data ends where the path would repeat a tag.
 */
export function trackingField(out: Out, field: FieldNode, t: string, tag: TagWriter): void {
  const fields = () => fieldsOf(out, field.selectionSet, 'ImageStreamTag');
  const x = out.alias('t');
  if (field.name.value === 'follows') {
    noArguments(field);
    out.push('coalesce((select ');
    tag(out, fields(), x);
    out.push(
      ` from tags ${x} where ${x}.stream_id = ${t}.stream_id and ${x}.name = ${t}.tracks_tag), 'null')`,
    );
    return;
  }
  if (!transitiveArg(field)) {
    const selected = fields();
    list(
      out,
      () => tag(out, selected, x),
      () =>
        out.push(
          `tags ${x} where ${x}.stream_id = ${t}.stream_id and ${x}.tracks_tag = ${t}.name and ${x}.id <> ${t}.id`,
        ),
      `${x}.name`,
    );
    return;
  }
  const f = out.alias('f');
  const y = out.alias('y');
  const p = out.alias('p');
  // Each row: a follower, its level, its path of names (chr(1) sorts before every name
  // character, so paths compare as their names do) and the names on it.
  out.push(
    `(with recursive ${f}(id, depth, path, seen) as (` +
      `select ${y}.id, 1, ${y}.name, array[${t}.name, ${y}.name] from tags ${y} where ${y}.stream_id = ${t}.stream_id and ${y}.tracks_tag = ${t}.name and ${y}.name <> ${t}.name` +
      ` union all select ${y}.id, ${f}.depth + 1, ${f}.path || chr(1) || ${y}.name, ${f}.seen || ${y}.name from ${f} join tags ${p} on ${p}.id = ${f}.id` +
      ` join tags ${y} on ${y}.stream_id = ${p}.stream_id and ${y}.tracks_tag = ${p}.name where not (${y}.name = any(${f}.seen)))` +
      ` select coalesce('[' || string_agg(`,
  );
  tag(out, fields(), x);
  out.push(
    `, ',' order by ${f}.depth, ${f}.path collate "C") || ']', '[]') from ${f} join tags ${x} on ${x}.id = ${f}.id)`,
  );
}
