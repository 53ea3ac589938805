// Rule 17: using another namespace's images as a tag source needs image-puller there.
import type { AccessChecker } from '../auth/roles.ts';

export async function canPullFrom(access: AccessChecker, namespace: string): Promise<boolean> {
  return access.can('image-puller', namespace);
}
