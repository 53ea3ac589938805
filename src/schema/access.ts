// Which role each root field needs, by the namespace its arguments name (plugin-scope-auth).
/** The namespace of `[ns/]stream:tag` or `[ns/]stream@id`, else the given default. */
export function namespaceOfRef(ref: string, fallback: string): string {
  const slash = ref.indexOf('/');
  return slash > 0 ? ref.slice(0, slash) : fallback;
}

type WithNamespace = { namespace: string };

/** image-puller in `args.namespace`. */
export const readArgs = (_root: unknown, args: WithNamespace) => ({ read: args.namespace });

/** editor in `args.input.namespace`. */
export const editInput = (_root: unknown, args: { input: WithNamespace }) => ({
  edit: args.input.namespace,
});

/** admin of `args.input.namespace`. */
export const adminInput = (_root: unknown, args: { input: WithNamespace }) => ({
  admin: args.input.namespace,
});

/** editor where `args.input.ref` (`[ns/]stream:tag`) points. */
export const editRef = (_root: unknown, args: { input: WithNamespace & { ref: string } }) => ({
  edit: namespaceOfRef(args.input.ref, args.input.namespace),
});
