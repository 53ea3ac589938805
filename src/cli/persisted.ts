// The CLI's persisted-document manifest: every document it can send, by SHA-256, for servers in
// trusted-documents mode. The build writes it to dist/cli-documents.json (esbuild.config.mjs).
import type { DocumentNode } from '@0no-co/graphql.web';
import * as documents from './documents.ts';
import {
  type AnyDocument,
  type Copies,
  copiedDocument,
  documentText,
  textHash,
} from './graphql.ts';

function isCopies(value: unknown): value is Copies<AnyDocument, string> {
  return typeof value === 'object' && value !== null && 'document' in value && 'max' in value;
}

function isOperation(value: unknown): value is DocumentNode {
  const definitions = (value as Partial<DocumentNode> | null)?.definitions;
  return Array.isArray(definitions) && definitions.some((d) => d.kind === 'OperationDefinition');
}

/**
 * Every document the CLI sends, named by its export in documents.ts: each operation, and each
 * `copies` document once per number of copies a request may hold (`NAME×3`). Fragments are
 * parts of these and not sent alone.
 */
export function cliDocuments(): Map<string, string> {
  const texts = new Map<string, string>();
  for (const [name, value] of Object.entries(documents)) {
    if (isCopies(value)) {
      for (let count = 1; count <= value.max; count++) {
        texts.set(`${name}×${count}`, documentText(copiedDocument(value, count)));
      }
    } else if (isOperation(value)) {
      texts.set(name, documentText(value));
    }
  }
  return texts;
}

/** The manifest: `{ "<sha256 hex>": "<document>" }`, the format TAGRAPH_TRUSTED_DOCUMENTS reads. */
export function cliManifest(): Record<string, string> {
  const manifest: Record<string, string> = {};
  for (const text of [...cliDocuments().values()].sort()) manifest[textHash(text)] = text;
  return manifest;
}
