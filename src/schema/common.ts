// Small shared GraphQL types: key/value pairs for labels and annotations.
import { builder } from '../builder.ts';
import type { KeyValue } from '../services/imageStreams.ts';

export const KeyValueRef = builder.objectRef<KeyValue>('KeyValue').implement({
  description: 'One label or annotation.',
  fields: (t) => ({
    key: t.exposeString('key'),
    value: t.exposeString('value'),
  }),
});

export const KeyValueInput = builder.inputType('KeyValueInput', {
  fields: (t) => ({
    key: t.string({ required: true }),
    value: t.string({ required: true }),
  }),
});

/** A record as a list sorted by key, so output is stable. */
export function entriesOf(record: Record<string, string>): KeyValue[] {
  return Object.keys(record)
    .sort()
    .map((key) => ({ key, value: record[key] ?? '' }));
}
