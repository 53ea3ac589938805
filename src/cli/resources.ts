// Resource names as oc takes them: `is/python`, `istag python:latest`, `imagestreamimage/…`.
import { CliError, istagNameRefused, UsageError } from './errors.ts';

export type ResourceType = 'is' | 'istag' | 'isimage';

const ALIASES: Record<string, ResourceType> = {
  is: 'is',
  imagestream: 'is',
  imagestreams: 'is',
  'imagestream.image.openshift.io': 'is',
  'imagestreams.image.openshift.io': 'is',
  istag: 'istag',
  imagestreamtag: 'istag',
  imagestreamtags: 'istag',
  'imagestreamtag.image.openshift.io': 'istag',
  'imagestreamtags.image.openshift.io': 'istag',
  isimage: 'isimage',
  imagestreamimage: 'isimage',
  imagestreamimages: 'isimage',
  'imagestreamimage.image.openshift.io': 'isimage',
  'imagestreamimages.image.openshift.io': 'isimage',
};

function typeOf(name: string): ResourceType | undefined {
  return ALIASES[name.toLowerCase()];
}

/** The type and names of `type/name [type/name…]` or `type [name…]`. */
export function parseResourceArgs(args: string[]): { type: ResourceType; names: string[] } {
  const [first, ...rest] = args;
  if (!first) throw new UsageError('give a resource type: is, istag or isimage');
  const slash = first.indexOf('/');
  const typeName = slash >= 0 ? first.slice(0, slash) : first;
  const type = typeOf(typeName);
  if (!type) {
    throw new CliError(
      `tagraph knows image streams only: is, istag and isimage, not "${typeName}"`,
    );
  }
  const names = slash >= 0 ? [first.slice(slash + 1)] : [];
  for (const arg of rest) {
    const at = arg.indexOf('/');
    // `istag/a:b istag/c:d`: the same type again; a bare name has no slash before `:` or `@`.
    const prefix = at >= 0 ? typeOf(arg.slice(0, at)) : undefined;
    if (prefix && prefix !== type)
      throw new UsageError(`mix of resource types: ${first} and ${arg}`);
    names.push(prefix ? arg.slice(at + 1) : arg);
  }
  return { type, names };
}

export const KIND_NAMES: Record<ResourceType, string> = {
  is: 'imagestream.image.openshift.io',
  istag: 'imagestreamtag.image.openshift.io',
  isimage: 'imagestreamimage.image.openshift.io',
};

/**
 * An image stream tag's name as the API server takes it: `<stream>:<tag>`, both parts given, or
 * its refusal (`Error from server (BadRequest): ImageStreamTags must be retrieved with …`).
 */
export function istagName(name: string): string {
  const parts = name.split(':');
  if (name.includes('@') || parts.length !== 2 || !parts[0] || !parts[1]) throw istagNameRefused();
  return name;
}
