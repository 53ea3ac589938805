// Event cursors: opaque strings for clients, event positions (`seq`) inside.
const PREFIX = 'event:';

export function encodeCursor(id: number): string {
  return Buffer.from(`${PREFIX}${id}`).toString('base64url');
}

/** The event position in a cursor, or null when the string is not one of ours. */
export function decodeCursor(cursor: string): number | null {
  const text = Buffer.from(cursor, 'base64url').toString();
  if (!text.startsWith(PREFIX)) return null;
  const id = Number(text.slice(PREFIX.length));
  return Number.isSafeInteger(id) && id >= 0 ? id : null;
}
