// Who is asking, and what they may do. The access-control issue fills this in; until then every
// caller may do everything, through this one place so that the checks already sit where needed.

export interface Caller {
  /** `system:anonymous` until authentication exists. */
  subject: string;
  groups: string[];
}

export const ANONYMOUS: Caller = { subject: 'system:anonymous', groups: [] };

/**
 * Rule 17: may `caller` use images of `namespace` as a tag source (the image-puller role there)?
 * Allows everything for now; the access-control issue implements role bindings.
 */
export async function canPullFrom(_caller: Caller, _namespace: string): Promise<boolean> {
  return true;
}
