// Reading what a command is given (a file, stdin) with a bound on its size.
/** A stream's bytes as UTF-8, or null once they pass `maxBytes` (the stream is then destroyed). */
export async function readAtMost(
  stream: AsyncIterable<Buffer | string> & { destroy(): void },
  maxBytes: number,
): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    if (size > maxBytes) {
      stream.destroy();
      return null;
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString('utf8');
}
