// Namespace (a project): the `namespaces` listing, one namespace's streams and its tags.
import { inArray, sql } from 'drizzle-orm';
import { readableNamespaces } from '../auth/roles.ts';
import { builder } from '../builder.ts';
import { type namespaces, namespaces as namespacesTable } from '../db/schema.ts';
import { countRows, importFailingSql } from '../services/listFilters.ts';
import { RoleEnum } from './accessControl.ts';
import { namespaceStreamsConnection } from './imageStreams.ts';
import { listConnection } from './listConnection.ts';
import { namespaceTagsConnection } from './tagLists.ts';

/**
 * A correlated count. Not `t.relatedCount('imageStreams')`: with drizzle-orm 1.0.0-rc.5 the
 * plugin renders that relation's filter as a broken SQL fragment (`where (, "d0", ., "name", …`).
 */
const streamCount = {
  imageStreamCount: (ns: typeof namespaces) =>
    sql<number>`(select count(*)::int from image_streams s where s.namespace = ${ns.name})`,
};

/** Correlated counts of the namespace's tags, in the page's own statement: none per namespace. */
const tagCounts = {
  tagCount: (ns: typeof namespaces) =>
    sql<number>`(select count(*)::int from tags t
      join image_streams s on s.id = t.stream_id where s.namespace = ${ns.name})`,
  failingImportCount: (ns: typeof namespaces) =>
    sql<number>`(select count(*)::int from tags t
      join image_streams s on s.id = t.stream_id
      where s.namespace = ${ns.name} and ${importFailingSql(sql`t.id`)})`,
};

builder.drizzleObject('namespaces', {
  name: 'Namespace',
  description: 'A project: the unit of access control. Created with its first stream or secret.',
  select: { columns: { name: true } },
  authScopes: (namespace) => ({ read: namespace.name }),
  fields: (t) => ({
    name: t.exposeString('name'),
    myRole: t.field({
      type: RoleEnum,
      nullable: true,
      description:
        "The caller's strongest role here (ADMIN for a cluster admin); clients show or hide " +
        'actions by it. The server still checks every operation.',
      resolve: (ns, _args, ctx) => ctx.access.role(ns.name),
    }),
    imageStreamCount: t.int({
      select: { extras: streamCount },
      resolve: (ns) => ns.imageStreamCount,
    }),
    tagCount: t.int({
      description: "Tags of the namespace's streams, spec and status-only alike.",
      select: { extras: { tagCount: tagCounts.tagCount } },
      resolve: (ns) => ns.tagCount,
    }),
    failingImportCount: t.int({
      description:
        'Tags whose last import failed (`ImportSuccess` is False): those the tag filter ' +
        '`importFailing: true` selects.',
      select: { extras: { failingImportCount: tagCounts.failingImportCount } },
      resolve: (ns) => ns.failingImportCount,
    }),
    imageStreams: listConnection(t, 'imageStreams', namespaceStreamsConnection, {
      description: 'Filtered and ordered as the imageStreams query.',
    }),
    tags: listConnection(t, 'tags', namespaceTagsConnection, {
      name: 'NamespaceTag',
      description:
        "The tags of every stream of the namespace, filtered and ordered as a stream's tags " +
        '(by name, then id, unless orderBy says; docs/queries.md).',
    }),
  }),
});

builder.queryFields((t) => ({
  namespaces: t.drizzleConnection({
    type: 'namespaces',
    description: 'The namespaces the caller may read, sorted by name.',
    totalCount: async (_parent, _args, ctx) => {
      const readable = await readableNamespaces(ctx.database.db, ctx.access.caller);
      if (readable?.length === 0) return 0;
      return countRows(
        ctx.database.db,
        namespacesTable,
        readable === null ? sql`true` : inArray(namespacesTable.name, readable),
      );
    },
    resolve: async (query, _root, _args, ctx) => {
      const readable = await readableNamespaces(ctx.database.db, ctx.access.caller);
      const page = await ctx.database.db.query.namespaces.findMany(
        query({
          where: readable === null ? {} : { name: { in: readable } },
          orderBy: { name: 'asc' },
        }),
      );
      // Each Namespace is checked again as an object: one statement for the whole page.
      // (plugin-drizzle types the page as the selection's extras; the rows are whole namespaces.)
      const rows = page as unknown as { name: string }[];
      await ctx.access.preload(rows.map((ns) => ns.name));
      return page;
    },
  }),
  namespace: t.drizzleField({
    authScopes: (_root, args) => ({ read: args.name }),
    type: 'namespaces',
    nullable: true,
    args: { name: t.arg.string({ required: true }) },
    resolve: (query, _root, args, ctx) =>
      ctx.database.db.query.namespaces.findFirst(query({ where: { name: args.name } })),
  }),
}));
