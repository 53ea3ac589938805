// setTagAnnotations: a spec tag's annotations, the one part of `spec.tags[]` `tag` does not set.
import { builder } from '../builder.ts';
import { unwrap } from '../errors.ts';
import { setTagAnnotations, type TagAnnotationsSet } from '../services/apply.ts';
import { editRef } from './access.ts';
import { KeyValueInput } from './common.ts';
import { EDIT_ERRORS } from './errors.ts';
import { tagByIdField } from './tagField.ts';

const SetTagAnnotationsInput = builder.inputType('SetTagAnnotationsInput', {
  fields: (t) => ({
    namespace: t.string({ required: true }),
    ref: t.string({ required: true, description: '`[ns/]stream:tag`' }),
    annotations: t.field({
      type: [KeyValueInput],
      required: true,
      description: 'The whole set: annotations not given are removed.',
    }),
    expectedResourceVersion: t.string(),
  }),
});

const SetTagAnnotationsPayload = builder
  .objectRef<TagAnnotationsSet>('SetTagAnnotationsPayload')
  .implement({
    fields: (t) => ({
      changed: t.exposeBoolean('changed', {
        description: 'False when the tag already had exactly these annotations.',
      }),
      importJobId: t.exposeID('importJobId', {
        nullable: true,
        description:
          'A re-import queued because `importer.image.openshift.io/prefer-arch` or `prefer-os` changed.',
      }),
      imageStreamTag: tagByIdField(t),
    }),
  });

builder.mutationFields((t) => ({
  setTagAnnotations: t.field({
    authScopes: editRef,
    type: SetTagAnnotationsPayload,
    description:
      "Replace a spec tag's annotations (OpenShift's `spec.tags[].annotations`); the generation stays.",
    args: { input: t.arg({ type: SetTagAnnotationsInput, required: true }) },
    errors: { types: EDIT_ERRORS },
    resolve: async (_root, { input }, ctx) =>
      unwrap(await setTagAnnotations(ctx.database.db, ctx.access, input)),
  }),
}));
