// Webhook bodies, signatures, secrets and retry delays, checked against the Standard Webhooks library and the CloudEvents attributes.
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { decodeCursor } from '../../src/events/cursor.ts';
import type { StoredEvent } from '../../src/events/hub.ts';
import { retryDelayMs } from '../../src/webhooks/dispatcher.ts';
import {
  eventMessage,
  generateSecret,
  secretProblem,
  signedHeaders,
} from '../../src/webhooks/payload.ts';

const event: StoredEvent = {
  id: 7,
  seq: 42,
  at: new Date('2026-12-04T01:02:03.456Z'),
  namespace: 'team-a',
  stream: 'web',
  tag: 'prod',
  type: 'UPDATED',
  cause: 'scheduled-import',
  payload: {
    previous: { digest: 'sha256:aa', reference: 'r/team-a/web@sha256:aa' },
    current: { digest: 'sha256:bb', reference: 'r/team-a/web@sha256:bb' },
  },
  actor: { kind: 'TOKEN', subject: 'ci', tokenId: 3, source: 'api', requestId: 'req-1' },
  actorSubject: 'ci',
};

describe('webhook payloads', () => {
  it('writes a CloudEvents 1.0 structured event with the JSON body as data', () => {
    const message = eventMessage(3, 'CLOUDEVENTS', event);
    const body = JSON.parse(message.body);
    expect(message.contentType).toBe('application/cloudevents+json; charset=utf-8');
    expect(body).toMatchObject({
      specversion: '1.0',
      source: '/namespaces/team-a/imagestreams/web',
      type: 'io.tagraph.tag.updated',
      subject: 'prod',
      time: '2026-12-04T01:02:03.456Z',
      datacontenttype: 'application/json',
      data: {
        cause: 'SCHEDULED_IMPORT',
        previous: { digest: 'sha256:aa', dockerImageReference: 'r/team-a/web@sha256:aa' },
        current: { digest: 'sha256:bb' },
        actor: { kind: 'TOKEN', subject: 'ci', tokenId: 3, source: 'api', requestId: 'req-1' },
      },
    });
    expect(decodeCursor(body.id)).toBe(42);
    expect(message.id).toBe('msg_3_42');
  });

  it('signs so that the Standard Webhooks library verifies, and not with another secret', () => {
    const secret = generateSecret();
    const message = eventMessage(3, 'JSON', event);
    const headers = signedHeaders(secret, message, new Date());
    expect(new Webhook(secret).verify(message.body, headers)).toMatchObject({ tag: 'prod' });
    expect(() => new Webhook(generateSecret()).verify(message.body, headers)).toThrow();
  });

  it('accepts only whsec_ secrets of 24 to 64 bytes', () => {
    expect(secretProblem(generateSecret())).toBeNull();
    expect(secretProblem('hunter2')).toMatch(/whsec_/);
    expect(secretProblem(`whsec_${Buffer.alloc(8).toString('base64')}`)).toMatch(/24 to 64/);
    expect(secretProblem('whsec_not base64!')).toMatch(/base64/);
  });

  it('backs off from the first delay, doubling, up to the cap', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 1000, 3_600_000))).toEqual([
      1000, 2000, 4000, 8000,
    ]);
    expect(retryDelayMs(13, 1000, 3_600_000)).toBe(3_600_000);
    expect(retryDelayMs(500, 1000, 3_600_000)).toBe(3_600_000);
  });
});
