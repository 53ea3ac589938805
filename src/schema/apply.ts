// applyImageStream (one ImageStream, all or nothing) and setTagAnnotations (a spec tag's annotations, the one part of `spec.tags[]` `tag` does not set).
import { builder } from '../builder.ts';
import { ValidationError } from '../errors.ts';
import {
  type ApplyFailure,
  type ApplyOutcome,
  applyImageStream,
  MAX_APPLY_TAGS,
  setTagAnnotations,
  type TagAnnotationsSet,
} from '../services/apply.ts';
import { editInput, editRef } from './access.ts';
import { KeyValueInput } from './common.ts';
import { EDIT_ERRORS, FieldProblemRef, INPUT_ERRORS } from './errors.ts';
import { byInput, inputMutation, refFields } from './shapes.ts';
import { tagByIdField } from './tagField.ts';
import { TagInput } from './tagging.ts';

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
  setTagAnnotations: inputMutation(t, {
    scope: editRef,
    payload: SetTagAnnotationsPayload,
    description:
      "Replace a spec tag's annotations (OpenShift's `spec.tags[].annotations`); the generation stays.",
    input: SetTagAnnotationsInput,
    errors: EDIT_ERRORS,
    act: byInput(setTagAnnotations),
  }),
}));

const ApplyTagAnnotationsInput = builder.inputType('ApplyTagAnnotationsInput', {
  fields: (t) => ({
    tag: t.string({ required: true }),
    annotations: t.field({ type: [KeyValueInput], required: true }),
  }),
});

const ApplyImageStreamInput = builder.inputType('ApplyImageStreamInput', {
  description:
    'One ImageStream as a manifest states it (`oc apply`): its metadata and spec, and one `tag` ' +
    "input per spec tag, each with this stream's tag as its only destination.",
  fields: (t) => ({
    ...refFields(t),
    labels: t.field({ type: [KeyValueInput], required: true }),
    annotations: t.field({ type: [KeyValueInput], required: true }),
    lookupLocal: t.boolean({ required: true }),
    dockerImageRepository: t.string({ description: 'Null: none (clears it).' }),
    tags: t.field({
      type: [TagInput],
      required: true,
      description: `At most ${MAX_APPLY_TAGS}; tags left out are kept as they are.`,
    }),
    tagAnnotations: t.field({
      type: [ApplyTagAnnotationsInput],
      required: true,
      description: 'The whole set of annotations per spec tag (tags left out keep theirs).',
    }),
  }),
});

const ApplyStatus = builder.enumType('ApplyStatus', {
  values: {
    CREATED: {},
    CONFIGURED: {},
    UNCHANGED: {},
    FAILED: { description: 'A part failed (see failures): nothing of the stream was changed.' },
  },
});

const ApplyFailureRef = builder.objectRef<ApplyFailure>('ApplyFailure').implement({
  fields: (t) => ({
    tag: t.exposeString('tag', { nullable: true, description: 'Null: the stream itself.' }),
    code: t.string({ resolve: (f) => f.error.code }),
    message: t.string({ resolve: (f) => f.error.message }),
    field: t.string({ nullable: true, resolve: (f) => f.error.field }),
    problems: t.field({
      type: [FieldProblemRef],
      description: 'For a VALIDATION failure: each problem.',
      resolve: (f) => (f.error instanceof ValidationError ? f.error.problems : []),
    }),
  }),
});

const ApplyImageStreamPayload = builder
  .objectRef<ApplyOutcome>('ApplyImageStreamPayload')
  .implement({
    fields: (t) => ({
      status: t.field({ type: ApplyStatus, resolve: (o) => o.status }),
      failures: t.field({ type: [ApplyFailureRef], resolve: (o) => o.failures }),
    }),
  });

builder.mutationFields((t) => ({
  applyImageStream: inputMutation(t, {
    scope: editInput,
    payload: ApplyImageStreamPayload,
    description:
      'Apply one ImageStream all or nothing, as `oc apply` does: if any part (the stream or a ' +
      'spec tag) fails, nothing of it changes and every failure is listed.',
    input: ApplyImageStreamInput,
    errors: INPUT_ERRORS,
    act: (ctx, input) =>
      applyImageStream(
        ctx.database.db,
        ctx.access,
        { ...input, dockerImageRepository: input.dockerImageRepository ?? null },
        ctx.config.importRegistries,
      ),
  }),
}));
