// Field shapes many schema modules share: the `namespace`+`name` fields and arguments locating an
// object, an object of a namespace, one-object payloads, the per-namespace list query, and a
// mutation whose one `input` a service acts on.
import type { ArgBuilder, FieldMap } from '@pothos/core';
import { builder } from '../builder.ts';
import type { AppContext } from '../context.ts';
import type { Db } from '../db/client.ts';
import {
  type ConflictError,
  type ForbiddenError,
  type NotFoundError,
  type Result,
  unwrap,
  type ValidationError,
} from '../errors.ts';
import { valueOrGraphQLError } from './access.ts';

/** The builder's schema types, for typing field builders and refs outside its callbacks. */
export type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
type InputFields = PothosSchemaTypes.InputFieldBuilder<Types, 'InputObject'>;
type QueryFields = PothosSchemaTypes.QueryFieldBuilder<Types, Types['Root']>;
export type MutationFields = PothosSchemaTypes.MutationFieldBuilder<Types, Types['Root']>;
type Scopes = Partial<Types['AuthScopes']>;
export type ErrorTypes = (
  | typeof ValidationError
  | typeof NotFoundError
  | typeof ConflictError
  | typeof ForbiddenError
)[];

/** The `namespace` and `name` input fields that locate an object of a namespace (a reference). */
export const refFields = (t: InputFields) => ({
  namespace: t.string({ required: true }),
  name: t.string({ required: true }),
});

/** The `namespace` and `name` arguments that locate an object of a namespace. */
export const refArgs = (arg: ArgBuilder<Types>) => ({
  namespace: arg.string({ required: true }),
  name: arg.string({ required: true }),
});

/** The `namespace` and `ref` arguments of a lookup by reference (readRef checks them); `form` is ref's. */
export const refLookupArgs = (arg: ArgBuilder<Types>, form: string) => ({
  namespace: arg.string({ required: true }),
  ref: arg.string({ required: true, description: form }),
});

/** An object of a namespace: its `namespace` and `name` first, readable by callers with `role` there. */
export function namespacedObject<Shape extends { namespace: string; name: string }>(
  name: string,
  role: 'read' | 'edit' | 'admin',
  options: {
    description: string;
    fields: (t: PothosSchemaTypes.ObjectFieldBuilder<Types, Shape>) => FieldMap;
  },
) {
  return builder.objectRef<Shape>(name).implement({
    authScopes: (object) => ({ [role]: object.namespace }) as Scopes,
    description: options.description,
    fields: (t) => ({
      namespace: t.string({ resolve: (object) => object.namespace }),
      name: t.string({ resolve: (object) => object.name }),
      ...options.fields(t),
    }),
  });
}

/** A mutation payload holding the one object the mutation created, changed or removed, as `key`. */
export function objectPayload<Key extends string, Shape>(
  name: string,
  key: Key,
  type: PothosSchemaTypes.ObjectRef<Types, Shape>,
) {
  return builder.objectRef<Record<Key, Shape>>(name).implement({
    fields: (t) => ({ [key]: t.field({ type, resolve: (p) => p[key] as never }) }),
  });
}

/** A root query listing a namespace's objects (`namespace` argument) to the callers `scope` admits. */
export function namespaceList<Shape>(
  t: QueryFields,
  options: {
    scope: (root: unknown, args: { namespace: string }) => Scopes;
    type: PothosSchemaTypes.ObjectRef<Types, Shape>;
    description?: string;
    list: (db: Db, access: AppContext['access'], namespace: string) => Promise<Result<Shape[]>>;
  },
) {
  return t.field({
    authScopes: options.scope,
    description: options.description,
    type: [options.type],
    args: { namespace: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) =>
      valueOrGraphQLError(await options.list(ctx.database.db, ctx.access, args.namespace)),
  });
}

interface MutationOptions<Input, Value, Payload> {
  scope: (root: unknown, args: { input: Input }) => Scopes;
  description?: string;
  input: PothosSchemaTypes.InputObjectRef<Types, Input>;
  payload: PothosSchemaTypes.ObjectRef<Types, Payload>;
  /** The expected errors `act` fails with: the other members of the result union. */
  errors: ErrorTypes;
  act: (ctx: AppContext, input: Input) => Promise<Result<Value>>;
}

/** A mutation with one required `input` that `act` carries out, answering its value or an error. */
export const inputMutation = <Input, Payload>(
  t: MutationFields,
  options: MutationOptions<Input, Payload, Payload>,
) => mutation(t, { ...options, answer: (value) => value });

/** An inputMutation whose payload `answer` makes of the value `act` gives. */
export const answeringMutation = <Input, Value, Payload>(
  t: MutationFields,
  options: MutationOptions<Input, Value, Payload> & { answer: (value: Value) => Payload },
) => mutation(t, options);

function mutation<Input, Value, Payload>(
  t: MutationFields,
  options: MutationOptions<Input, Value, Payload> & { answer: (value: Value) => Payload },
) {
  // Pothos cannot follow the generic Input through its argument types; the options are checked.
  return t.field({
    authScopes: options.scope as never,
    description: options.description,
    type: options.payload,
    args: { input: t.arg({ type: options.input, required: true }) },
    errors: { types: options.errors },
    resolve: (async (_root: unknown, { input }: { input: Input }, ctx: AppContext) =>
      options.answer(unwrap(await options.act(ctx, input)))) as never,
  });
}

/** An `act` for inputMutation from a service function that takes the object's namespace and name. */
export const byName =
  <Shape>(
    fn: (
      db: Db,
      access: AppContext['access'],
      namespace: string,
      name: string,
    ) => Promise<Result<Shape>>,
  ) =>
  (ctx: AppContext, input: { namespace: string; name: string }) =>
    fn(ctx.database.db, ctx.access, input.namespace, input.name);

/** An `act` for inputMutation from a service function that takes the whole input. */
export const byInput =
  <Input, Value>(
    fn: (db: Db, access: AppContext['access'], input: Input) => Promise<Result<Value>>,
  ) =>
  (ctx: AppContext, input: Input) =>
    fn(ctx.database.db, ctx.access, input);
