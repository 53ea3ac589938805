// ImageStream, ImageStreamTag and Image as Apollo Federation entities, and the subgraph schema
// that serves them (`_entities`, `_service`) when TAGRAPH_FEDERATION is on (docs/federation.md).
import { printSubgraphSchema } from '@apollo/subgraph';
import { createContextCache } from '@pothos/core';
import DataLoader from 'dataloader';
import { GraphQLError, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { builder } from '../builder.ts';
import type { AppContext } from '../context.ts';
import type { ExpectedError, Result } from '../errors.ts';
import {
  findImages,
  findStreams,
  findTags,
  MAX_REPRESENTATIONS,
  parseImageKey,
  parseStreamKey,
  parseTagKey,
  type StreamKey,
  type TagKey,
} from '../services/entities.ts';
import { ImageStream } from './imageStreams.ts';
import { Image } from './images.ts';
import { ImageStreamTag } from './tags.ts';

/** The Federation version the subgraph's `@link` names. */
export const FEDERATION_LINK = 'https://specs.apollo.dev/federation/v2.6';

function graphqlError(error: ExpectedError): GraphQLError {
  return new GraphQLError(error.message, {
    extensions: { code: error.code, field: error.field },
  });
}

function keyOrThrow<T>(result: Result<T>): T {
  if (!result.ok) throw graphqlError(result.error);
  return result.value;
}

/** A loader's answer per key: the value, or the key's own error (DataLoader rejects just it). */
function settle<T>(answers: Result<T>[]): (T | Error)[] {
  return answers.map((a) => (a.ok ? a.value : graphqlError(a.error)));
}

const keyString = (key: StreamKey | TagKey) => JSON.stringify(key);

// The reference resolvers are async so that a malformed key fails its own item, not `_entities`.

/**
 * One loader per type and request: `_entities` resolves each representation on its own, and the
 * loaders gather them into one read per type.
 */
const entityLoaders = createContextCache((ctx: AppContext) => ({
  streams: new DataLoader(
    async (keys: readonly StreamKey[]) => settle(await findStreams(ctx.access, keys)),
    {
      cacheKeyFn: keyString,
    },
  ),
  tags: new DataLoader(
    async (keys: readonly TagKey[]) => settle(await findTags(ctx.access, keys)),
    {
      cacheKeyFn: keyString,
    },
  ),
  images: new DataLoader((digests: readonly string[]) => findImages(ctx.access, digests)),
}));

builder.asEntity(ImageStream, {
  key: [
    builder.selection<{ id: string }>('id'),
    builder.selection<{ namespace: string; name: string }>('namespace name'),
  ],
  resolveReference: async (ref, ctx) =>
    entityLoaders(ctx).streams.load(keyOrThrow(parseStreamKey(ref as Record<string, unknown>))),
});

builder.asEntity(ImageStreamTag, {
  key: [
    builder.selection<{ id: string }>('id'),
    builder.selection<{ stream: { namespace: string; name: string }; name: string }>(
      'stream { namespace name } name',
    ),
  ],
  resolveReference: async (ref, ctx) =>
    entityLoaders(ctx).tags.load(keyOrThrow(parseTagKey(ref as Record<string, unknown>))),
});

builder.asEntity(Image, {
  key: [builder.selection<{ id: string }>('id'), builder.selection<{ digest: string }>('digest')],
  // Only the key: the fields are loaded for every image of the response in one batched read.
  resolveReference: async (ref, ctx) => {
    const digest = await entityLoaders(ctx).images.load(
      keyOrThrow(parseImageKey(ref as Record<string, unknown>)),
    );
    return digest === null ? null : ({ digest } as never);
  },
});

let built: GraphQLSchema | null = null;

/**
 * The public schema plus `_service` and `_entities`, built on first use; `_entities` takes at most
 * MAX_REPRESENTATIONS representations.
 */
export function subgraphSchema(): GraphQLSchema {
  if (built) return built;
  const schema = builder.toSubGraphSchema({
    linkUrl: FEDERATION_LINK,
    federationDirectives: ['@key'],
  });
  const entities = schema.getQueryType()!.getFields()._entities!;
  const resolve = entities.resolve as GraphQLFieldResolver<unknown, AppContext>;
  entities.resolve = (source, args: { representations: unknown[] }, ctx, info) => {
    if (args.representations.length > MAX_REPRESENTATIONS) {
      throw new GraphQLError(
        `_entities takes at most ${MAX_REPRESENTATIONS} representations, not ${args.representations.length}`,
        { extensions: { code: 'BAD_USER_INPUT', field: 'representations' } },
      );
    }
    return resolve(source, args, ctx, info);
  };
  built = schema;
  return schema;
}

/** The subgraph's SDL with its federation directives, as a gateway composes it. */
export function printedSubgraphSchema(): string {
  return printSubgraphSchema(subgraphSchema());
}
