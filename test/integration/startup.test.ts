// Starting the server as a user does, on either database: token mode with no way in warns at start,
// and the listening line and the log format.
import { describe, expect, it } from 'vitest';
import { spawnServer } from '../support/app.ts';

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}

describe('token mode without any way to authenticate', () => {
  it('warns loudly at start; the listening line gives the /graphql URL; logs are JSON', {
    timeout: 120_000,
  }, async () => {
    const server = await spawnServer({ TAGRAPH_AUTH: 'token', TAGRAPH_ADMIN_TOKEN: '' });
    try {
      const records = lines(server.logs()).map(
        (line) => JSON.parse(line) as Record<string, unknown>,
      );
      const warning = records.find((r) => String(r.msg).startsWith('NO ONE CAN AUTHENTICATE'));
      expect(warning, server.logs()).toMatchObject({ level: 40 });
      expect(String(warning!.msg)).toContain('TAGRAPH_ADMIN_TOKEN');
      const listening = records.find((r) => String(r.msg).startsWith('tagraph listening'));
      expect(listening?.msg).toBe(`tagraph listening on ${server.url}/graphql`);
    } finally {
      server.process.kill('SIGTERM');
      await server.exited;
    }
  });
});
