// Services that refuse a caller first and only then run: the refusal written once per service.
import { refusal } from '../auth/authorize.ts';
import type { AccessChecker, Role } from '../auth/roles.ts';
import type { Db } from '../db/client.ts';
import type { Result } from '../errors.ts';

/** A service `(db, access, input)` that runs `run` once `refuse` finds nothing to refuse. */
export function guarded<I, T>(
  refuse: (access: AccessChecker, input: I) => Promise<Result<never> | null>,
  run: (db: Db, input: I) => Promise<Result<T>>,
) {
  return async (db: Db, access: AccessChecker, input: I): Promise<Result<T>> =>
    (await refuse(access, input)) ?? run(db, input);
}

/** guarded() by the caller's `role` in the namespace the input names. */
export function withRole<I extends { namespace: string }, T>(
  role: Role,
  run: (db: Db, input: I) => Promise<Result<T>>,
) {
  return guarded((access, input: I) => refusal(access, role, input.namespace), run);
}
