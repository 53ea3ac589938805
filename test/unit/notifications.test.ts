// Which registry notification events become image stream mappings.
// The rules: docs/rules.md#image-stream-mapping.
import { describe, expect, it } from 'vitest';
import {
  MAX_EVENT_BYTES,
  notificationEnvelope,
  planNotification,
  readNotificationEvent,
} from '../../src/push/notifications.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

const push = (target: Record<string, unknown>, action = 'push') => ({ id: 'e1', action, target });

describe('planNotification', () => {
  it('maps a tagged manifest push to <namespace>/<stream>:<tag>', () => {
    expect(
      planNotification(
        push({ mediaType: OCI_MANIFEST, digest: DIGEST, repository: 'team/app', tag: 'v1' }),
      ),
    ).toEqual({
      kind: 'map',
      namespace: 'team',
      stream: 'app',
      tag: 'v1',
      repository: 'team/app',
      digest: DIGEST,
    });
  });

  it('maps index and docker manifest-list pushes too', () => {
    for (const mediaType of [
      'application/vnd.oci.image.index.v1+json',
      'application/vnd.docker.distribution.manifest.list.v2+json',
      'application/vnd.docker.distribution.manifest.v2+json',
    ]) {
      const plan = planNotification(
        push({ mediaType, digest: DIGEST, repository: 'team/app', tag: 'v1' }),
      );
      expect(plan.kind).toBe('map');
    }
  });

  it.each([
    [
      'a pull',
      push({ mediaType: OCI_MANIFEST, digest: DIGEST, repository: 'a/b', tag: 't' }, 'pull'),
      'pull events',
    ],
    [
      'a delete',
      push({ mediaType: OCI_MANIFEST, digest: DIGEST, repository: 'a/b' }, 'delete'),
      'delete events',
    ],
    [
      'a blob push',
      push({ mediaType: 'application/octet-stream', digest: DIGEST, repository: 'a/b' }),
      'not a manifest',
    ],
    [
      'an untagged child',
      push({ mediaType: OCI_MANIFEST, digest: DIGEST, repository: 'a/b' }),
      'untagged',
    ],
    [
      'a deeper path',
      push({ mediaType: OCI_MANIFEST, digest: DIGEST, repository: 'a/b/c', tag: 't' }),
      'is not <namespace>/<stream>',
    ],
    [
      'a single name',
      push({ mediaType: OCI_MANIFEST, digest: DIGEST, repository: 'solo', tag: 't' }),
      'is not <namespace>/<stream>',
    ],
    [
      'a bad namespace',
      push({ mediaType: OCI_MANIFEST, digest: DIGEST, repository: 'Team_X/b', tag: 't' }),
      'DNS-1123',
    ],
    [
      'a bad digest',
      push({ mediaType: OCI_MANIFEST, digest: 'md5:x', repository: 'a/b', tag: 't' }),
      'sha256',
    ],
  ])('ignores %s, saying why', (_name, event, reason) => {
    const plan = planNotification(event);
    expect(plan.kind).toBe('ignore');
    expect(plan.kind === 'ignore' && plan.reason).toContain(reason);
  });
});

describe('notificationEnvelope', () => {
  it('accepts the registry envelope with extra fields, refuses other shapes', () => {
    const envelope = {
      events: [
        {
          ...push({ repository: 'a/b', url: 'http://x', size: 3 }),
          timestamp: 'now',
          request: { host: 'r' },
        },
      ],
    };
    expect(notificationEnvelope.safeParse(envelope).success).toBe(true);
    expect(notificationEnvelope.safeParse({ events: 'x' }).success).toBe(false);
    expect(notificationEnvelope.safeParse({ events: [{ action: 'push' }] }).success).toBe(true);
  });
});

describe('readNotificationEvent', () => {
  it('reads a well-formed event', () => {
    const event = push({ repository: 'a/b' });
    expect(readNotificationEvent(event)).toEqual({ ok: true, event });
  });

  it('says why an event cannot be stored, keeping a usable id', () => {
    expect(readNotificationEvent({ action: 'push' })).toMatchObject({ ok: false, id: null });
    expect(readNotificationEvent({ id: 'e2' })).toMatchObject({
      ok: false,
      id: 'e2',
      reason: expect.stringMatching(/^not an event: action/),
    });
    expect(readNotificationEvent(push({ repository: 'a/\u0000b' }))).toEqual({
      ok: false,
      id: 'e1',
      reason: 'event.target.repository contains a NUL character (U+0000)',
    });
    expect(readNotificationEvent({ ...push({}), 'odd\u0000key': 1 })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('NUL'),
    });
    expect(readNotificationEvent({ ...push({}), id: 'e\u0000' })).toMatchObject({
      ok: false,
      id: null,
    });
    expect(
      readNotificationEvent({ ...push({}), padding: 'x'.repeat(MAX_EVENT_BYTES) }),
    ).toMatchObject({ ok: false, id: 'e1', reason: expect.stringMatching(/over \d+ bytes/) });
  });
});
