// Image stream mapping: what a registry reports on push becomes an image and a tag event.
// The rules: docs/rules.md#image-stream-mapping.
import type { Db, Tx } from '../db/client.ts';
import type { ImageMetadataSource } from '../db/schema.ts';
import {
  type Problem,
  validateNamespace,
  validateStreamName,
  validateTagName,
} from '../domain/names.ts';
import { invalid, ok, type Result } from '../errors.ts';
import { type EventCause, writeTransaction } from '../events/append.ts';
import { lockOrCreateStream } from './imageStreams.ts';
import { type ImageInput, saveImage } from './images.ts';
import { recordTagEvent } from './tagHistory.ts';

export interface MappingInput {
  namespace: string;
  stream: string;
  tag: string;
  image: ImageInput & { dockerImageReference: string };
  /** The images of a manifest list's entries, stored before the list (a pushed index). */
  children?: ImageInput[];
  /** Checked only when the stream exists already. */
  expectedResourceVersion?: string | null;
}

export interface MappingResult {
  streamId: number;
  /** Tags whose item 0 moved: the mapped tag, then its tracking tags. */
  changed: string[];
  imageCreated: boolean;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * Records `input.image` under the tag. `source` says whether its metadata was read from the
 * registry and verified (a push the importer fetched) or only declared by the caller (the
 * createImageStreamMapping mutation); saveImage decides what a stored digest keeps.
 */
export async function createImageStreamMapping(
  db: Db,
  input: MappingInput,
  source: ImageMetadataSource,
  cause: EventCause = 'push',
  /** Runs first in the write transaction; throws to write nothing (an importer's lease check). */
  guard?: (tx: Tx) => Promise<void>,
): Promise<Result<MappingResult>> {
  const problems: Problem[] = [
    ...(validateNamespace(input.namespace) ?? []),
    ...(validateStreamName(input.namespace, input.stream, 'stream') ?? []),
    ...(validateTagName(input.tag) ?? []),
  ];
  const { image } = input;
  if (!DIGEST.test(image.digest)) {
    problems.push({ field: 'image.digest', message: `"${image.digest}" is not a sha256 digest` });
  }
  for (const [i, layer] of (image.layers ?? []).entries()) {
    if (!DIGEST.test(layer.digest)) {
      problems.push({ field: `image.layers.${i}.digest`, message: 'not a sha256 digest' });
    }
  }
  for (const [i, child] of (image.manifests ?? []).entries()) {
    if (!DIGEST.test(child.digest)) {
      problems.push({ field: `image.manifests.${i}.digest`, message: 'not a sha256 digest' });
    }
  }
  if (!image.dockerImageReference.trim()) {
    problems.push({ field: 'image.dockerImageReference', message: 'must not be empty' });
  }
  if (problems.length > 0) return invalid(problems);

  return writeTransaction(db, async (tx) => {
    await guard?.(tx);
    const locked = await lockOrCreateStream(tx, input.namespace, input.stream, {
      cause,
      expectedResourceVersion: input.expectedResourceVersion,
    });
    if (!locked.ok) return locked;
    const stream = locked.value;
    for (const child of input.children ?? []) await saveImage(tx, child, source);
    const imageCreated = await saveImage(tx, image, source);
    const { changed } = await recordTagEvent(
      tx,
      stream,
      input.tag,
      {
        dockerImageReference: image.dockerImageReference,
        image: image.digest,
        generation: stream.generation,
      },
      { cause, createMissing: true },
    );
    return ok({ streamId: stream.id, changed, imageCreated });
  });
}
