// The mutations the CLI sends in batches, one factory each, so a test can check their documents.
import type { BatchCall } from './batch.ts';
import { errorFields } from './client.ts';
import type { KeyValue } from './queries.ts';

export function tagCall(input: Record<string, unknown>): BatchCall {
  return {
    field: 'tag',
    inputType: 'TagInput',
    input,
    selection: '... on TagPayload { results { tag message } }',
  };
}

export function deleteTagCall(namespace: string, ref: string): BatchCall {
  return {
    field: 'deleteTag',
    inputType: 'DeleteTagInput',
    input: { namespace, ref },
    selection: '... on DeleteTagPayload { namespace stream tag danglingFollowers }',
  };
}

export function deleteStreamCall(namespace: string, name: string): BatchCall {
  return {
    field: 'deleteImageStream',
    inputType: 'DeleteImageStreamInput',
    input: { namespace, name },
    selection: '... on DeleteImageStreamPayload { namespace name }',
    errors: errorFields({ conflict: true }),
  };
}

export function imageLookupCall(namespace: string, name: string, local: boolean): BatchCall {
  return {
    field: 'updateImageStream',
    inputType: 'UpdateImageStreamInput',
    input: { namespace, name, lookupPolicy: { local } },
    selection: '... on ImageStreamPayload { imageStream { name lookupPolicy { local } } }',
  };
}

export function tagAnnotationsCall(
  namespace: string,
  ref: string,
  annotations: KeyValue[],
): BatchCall {
  return {
    field: 'setTagAnnotations',
    inputType: 'SetTagAnnotationsInput',
    input: { namespace, ref, annotations },
    selection: '... on SetTagAnnotationsPayload { changed importJobId }',
  };
}
