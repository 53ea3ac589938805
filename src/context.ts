// What every resolver receives: the database, configuration, and a request-scoped logger.
import type { Logger } from 'pino';
import type { Credentials } from './auth/credentials.ts';
import type { AccessChecker } from './auth/roles.ts';
import type { Config } from './config.ts';
import type { Database } from './db/client.ts';
import type { EventHub } from './events/hub.ts';
import type { RemoteRegistryReader } from './services/policyTags.ts';

export interface AppContext {
  database: Database;
  config: Config;
  log: Logger;
  requestId: string;
  /** Who is asking, and their roles (cached for the request). */
  access: AccessChecker;
  events: EventHub;
  /** Whether the caller's token still holds; live streams watch it and end when it does not. */
  credentials: Credentials;
  /** Seals and opens pull secrets. */
  secretKey: Buffer;
  /** Registry reads that write nothing (previewPolicy, remoteTags). */
  registryReader: RemoteRegistryReader;
  /** On a graphql-ws connection: closes the socket (used to cut off a too-slow subscriber). */
  closeConnection?: (code: number, reason: string) => void;
  /** Set on a shared subscription's context (events/groups.ts): the id of each event delivered. */
  onDelivered?: (position: number) => void;
}
