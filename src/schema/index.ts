// The whole GraphQL schema: each area file registers its types on the builder when imported.
import { GraphQLDeferDirective, GraphQLStreamDirective } from '@graphql-tools/utils';
import { lexicographicSortSchema, specifiedDirectives } from 'graphql';
import { builder } from '../builder.ts';
import './errors.ts';
import './enums.ts';
import './imageStreams.ts';
import './images.ts';
import './imageDiff.ts';
import './namespaces.ts';
import './tags.ts';
import './streamImages.ts';
import './lineage.ts';
import './imageSearch.ts';
import './tagging.ts';
import './retention.ts';
import './policyTags.ts';
import './events.ts';
import './pullSecrets.ts';
import './webhooks.ts';
import './receivers.ts';
import './imports.ts';
import './apply.ts';
import './accessControl.ts';
import './federation.ts';

/**
 * `@defer` and `@stream` (incremental delivery, docs/queries.md) are declared here, so the printed
 * schema shows them and yoga's defer-stream plugin finds them rather than rebuilding the schema.
 */
export const schema = lexicographicSortSchema(
  builder.toSchema({
    directives: [...specifiedDirectives, GraphQLDeferDirective, GraphQLStreamDirective],
  }),
);
