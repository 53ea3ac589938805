// Who made a change: a user, an API token (a robot's or an issued one), or the system itself.

/** USER: a JWT or open-mode caller; TOKEN: an API token; SYSTEM: tagraph on its own account. */
export type ActorKind = 'USER' | 'TOKEN' | 'SYSTEM';

/**
 * What events and history items record about their author. `source` says which part of the
 * system acted (`api`, `scheduler`, `push:<registry>`, `receiver:<name>`, `import-job`); an import
 * job run for a caller keeps that caller as its actor with source `import-job`.
 */
export interface StoredActor {
  kind: ActorKind;
  subject: string;
  /** The API token's id (never the token); null for JWTs, open mode and the system. */
  tokenId: number | null;
  source: string;
  /** The request that made (or queued) the change; null for the system's own work. */
  requestId: string | null;
}

/** The scheduler's re-imports. */
export const SCHEDULER_ACTOR: StoredActor = {
  kind: 'SYSTEM',
  subject: 'system:scheduler',
  tokenId: null,
  source: 'scheduler',
  requestId: null,
};

/** A registry's push notification. */
export function pushActor(registry: string): StoredActor {
  return {
    kind: 'SYSTEM',
    subject: `system:registry:${registry}`,
    tokenId: null,
    source: `push:${registry}`,
    requestId: null,
  };
}

/** A call to a namespace's webhook receiver. */
export function receiverActor(namespace: string, name: string, requestId: string): StoredActor {
  return {
    kind: 'SYSTEM',
    subject: `system:receiver:${namespace}:${name}`,
    tokenId: null,
    source: `receiver:${name}`,
    requestId,
  };
}

/** The actor of a job's work: whoever queued it, now through the import job. */
export function jobActor(queuedBy: StoredActor | undefined): StoredActor {
  if (!queuedBy) {
    return {
      kind: 'SYSTEM',
      subject: 'system:importer',
      tokenId: null,
      source: 'import-job',
      requestId: null,
    };
  }
  return queuedBy.kind === 'SYSTEM' ? queuedBy : { ...queuedBy, source: 'import-job' };
}
