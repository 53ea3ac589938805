// The whole GraphQL schema: each area file registers its types on the builder when imported.
import { lexicographicSortSchema } from 'graphql';
import { builder } from '../builder.ts';
import './errors.ts';
import './enums.ts';
import './imageStreams.ts';
import './images.ts';
import './imageDiff.ts';
import './namespaces.ts';
import './tags.ts';
import './lineage.ts';
import './tagging.ts';
import './policyTags.ts';
import './events.ts';
import './pullSecrets.ts';
import './imports.ts';
import './apply.ts';
import './accessControl.ts';

export const schema = lexicographicSortSchema(builder.toSchema());
