// The CLI's human output: oc's durations and sizes, tab layout, and oc's documented describe
// examples.
import { describe, expect, it } from 'vitest';
import { formatPrune } from '../../src/cli/commands/prune.ts';
import { formatChange } from '../../src/cli/commands/watch.ts';
import {
  describeImageStream,
  describeImageStreamTag,
  prioritizeTags,
} from '../../src/cli/describe.ts';
import { humanDuration, humanSize } from '../../src/cli/humanize.ts';
import type { ImageView, StreamTagView, StreamView } from '../../src/cli/queries.ts';
import { DESCRIBE, TABLE, table, tabwrite } from '../../src/cli/tabwriter.ts';
import { PYTHON_35_CONFIG_LINES } from '../support/cliTexts.ts';
import { specView, tagView } from '../support/cliViews.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('humanDuration (go-units)', () => {
  it.each([
    [0, 'Less than a second'],
    [999, 'Less than a second'],
    [SECOND, '1 second'],
    [59 * SECOND, '59 seconds'],
    [MINUTE, 'About a minute'],
    [119 * SECOND, 'About a minute'],
    [2 * MINUTE, '2 minutes'],
    [59 * MINUTE, '59 minutes'],
    [HOUR, 'About an hour'],
    [90 * MINUTE, '2 hours'],
    [47 * HOUR, '47 hours'],
    [2 * DAY, '2 days'],
    [13 * DAY, '13 days'],
    [14 * DAY, '2 weeks'],
    [59 * DAY, '8 weeks'],
    [60 * DAY, '2 months'],
    [729 * DAY, '24 months'],
    [730 * DAY, '2 years'],
  ])('%i ms is "%s"', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});

describe('humanSize (decimal, four digits)', () => {
  it.each([
    [0, '0 B'],
    [574, '574 B'],
    [999, '999 B'],
    [1000, '1 kB'],
    [2_898_000, '2.898 MB'],
    [72_260_000, '72.26 MB'],
    [251_200_000, '251.2 MB'],
    [441_976_279, '442 MB'],
    [1_500_000_000_000, '1.5 TB'],
  ])('%i bytes is "%s"', (bytes, text) => {
    expect(humanSize(bytes)).toBe(text);
  });
});

describe('tabwriter (Go text/tabwriter)', () => {
  it('pads describe labels with tabs to the widest label plus one, in tab stops of 8', () => {
    expect(tabwrite('Name:\tpython\nDocker Pull Spec:\tx\nTags:\t1\n', DESCRIBE)).toBe(
      'Name:\t\t\tpython\nDocker Pull Spec:\tx\nTags:\t\t\t1\n',
    );
  });

  it('aligns a column only over the consecutive lines that have it', () => {
    const text = 'A:\t1\nno tabs here\nLonger label:\t2\n';
    expect(tabwrite(text, DESCRIBE)).toBe('A:\t1\nno tabs here\nLonger label:\t2\n');
  });

  it('lines up the inner column of continuation lines (Manifests)', () => {
    const text = 'Arch:\t<none>\nManifests:\tlinux/amd64\tsha256:a\n\tlinux/ppc64le\tsha256:b\n';
    expect(tabwrite(text, DESCRIBE)).toBe(
      'Arch:\t\t<none>\nManifests:\tlinux/amd64\tsha256:a\n\t\tlinux/ppc64le\tsha256:b\n',
    );
  });

  it('pads table cells with spaces: at least 10 wide, 3 apart, the last column bare', () => {
    expect(
      table(
        ['NAME', 'LOCAL'],
        [
          ['mysql', 'true'],
          ['a-much-longer-name', 'false'],
        ],
      ),
    ).toBe('NAME                 LOCAL\nmysql                true\na-much-longer-name   false\n');
    expect(tabwrite('a\tb\n', TABLE)).toBe('a         b\n');
  });
});

it('prioritizeTags puts latest first, then versions newest first, then the rest', () => {
  expect(prioritizeTags(['3.5', 'stable', 'latest', '3.6', '3.10', 'v2.0.1'])).toEqual([
    'latest',
    '3.10',
    '3.6',
    '3.5',
    'v2.0.1',
    'stable',
  ]);
});

const NOW = Date.parse('2017-10-02T17:10:00Z');
const at = (msAgo: number) => new Date(NOW - msAgo).toISOString();
const DIGEST = 'sha256:49c18358df82f4577386404991c51a9559f243e0b1bdc366df25';

/** The stream of OpenShift's second documented `oc describe is/python` example. */
const python: StreamView = {
  id: 'SW1hZ2VTdHJlYW06MQ==',
  name: 'python',
  namespace: 'default',
  createdAt: at(5 * MINUTE),
  updatedAt: at(MINUTE),
  generation: 3,
  resourceVersion: '7',
  pullSpec: 'docker-registry.default.svc:5000/default/python',
  dockerImageRepository: null,
  uniqueImageCount: 1,
  labels: [],
  annotations: [{ key: 'openshift.io/image.dockerRepositoryCheck', value: '2017-10-02T17:05:11Z' }],
  lookupPolicy: { local: false },
  tags: [
    tagView('3.5', {
      spec: specView({ kind: 'DockerImage', name: 'centos/python-35-centos7' }),
      history: [
        {
          created: at(5 * MINUTE),
          dockerImageReference: `centos/python-35-centos7@${DIGEST}`,
          generation: 2,
          image: { digest: DIGEST },
        },
      ],
    }),
    tagView('latest', {
      spec: specView({ kind: 'ImageStreamImage', name: `python@${DIGEST}` }),
      history: [
        {
          created: at(MINUTE + 5 * SECOND),
          dockerImageReference: `centos/python-35-centos7@${DIGEST}`,
          generation: 3,
          image: { digest: DIGEST },
        },
      ],
    }),
  ],
};

describe('describe', () => {
  it('tracking tags are listed beside the tag they lead to; an import repository is shown', () => {
    const item = {
      created: at(MINUTE),
      dockerImageReference: `quay.io/x/ruby@${DIGEST}`,
      generation: 2,
      image: { digest: DIGEST },
    };
    const stream: StreamView = {
      ...python,
      dockerImageRepository: 'quay.io/x/ruby',
      labels: [],
      annotations: [],
      tags: [
        tagView('1.0', {
          spec: specView({ kind: 'DockerImage', name: 'quay.io/x/ruby:1.0' }),
          history: [item],
        }),
        tagView('latest', {
          spec: specView({ kind: 'ImageStreamTag', name: '1.0' }),
          history: [item],
        }),
        tagView('stable', {
          spec: specView({ kind: 'ImageStreamTag', name: 'python:latest' }),
          history: [item],
        }),
      ],
    };
    expect(describeImageStream(stream, NOW)).toBe(
      [
        'Name:\t\t\tpython',
        'Namespace:\t\tdefault',
        'Created:\t\t5 minutes ago',
        'Labels:\t\t\t<none>',
        'Annotations:\t\t<none>',
        'Image Repository:\tdocker-registry.default.svc:5000/default/python',
        'Import Repository:\tquay.io/x/ruby',
        'Image Lookup:\t\tlocal=false',
        'Unique Images:\t\t1',
        'Tags:\t\t\t3',
        '',
        '1.0 (latest, stable)',
        '  tagged from quay.io/x/ruby:1.0',
        '',
        `  * quay.io/x/ruby@${DIGEST}`,
        '      About a minute ago',
        '',
      ].join('\n'),
    );
    expect(
      describeImageStream({ ...stream, dockerImageRepository: null, tags: [] }, NOW),
    ).toContain('Image Lookup:\t\tlocal=false\nTags:\t\t\t<none>\n');
  });

  it('is/python prints the seed example exactly', () => {
    expect(describeImageStream(python, NOW)).toBe(
      [
        'Name:\t\t\tpython',
        'Namespace:\t\tdefault',
        'Created:\t\t5 minutes ago',
        'Labels:\t\t\t<none>',
        'Annotations:\t\topenshift.io/image.dockerRepositoryCheck=2017-10-02T17:05:11Z',
        'Image Repository:\tdocker-registry.default.svc:5000/default/python',
        'Image Lookup:\t\tlocal=false',
        'Unique Images:\t\t1',
        'Tags:\t\t\t2',
        '',
        'latest',
        `  tagged from python@${DIGEST}`,
        '',
        `  * centos/python-35-centos7@${DIGEST}`,
        '      About a minute ago',
        '',
        '3.5',
        '  tagged from centos/python-35-centos7',
        '',
        `  * centos/python-35-centos7@${DIGEST}`,
        '      5 minutes ago',
        '',
      ].join('\n'),
    );
  });

  it('is: scheduled, insecure, local, reference, failing, pending and older items', () => {
    const stream: StreamView = {
      ...python,
      labels: [
        { key: 'template', value: 'application-template-stibuild' },
        { key: 'app', value: 'ruby-sample-build' },
      ],
      annotations: [],
      uniqueImageCount: 2,
      tags: [
        tagView('scheduled', {
          spec: specView(
            { kind: 'DockerImage', name: 'quay.io/x/y:1' },
            {
              importPolicy: { importMode: 'Legacy', insecure: true, scheduled: true },
              referencePolicy: { type: 'Local' },
            },
          ),
          importPending: true,
          conditions: [
            {
              type: 'ImportSuccess',
              status: 'False',
              reason: 'NotFound',
              message: 'manifest unknown',
              generation: 2,
              lastTransitionTime: at(3 * MINUTE),
            },
          ],
          history: [
            {
              created: at(2 * HOUR),
              dockerImageReference: 'quay.io/x/y:1',
              generation: 1,
              image: { digest: 'sha256:bbb' },
            },
            {
              created: at(3 * DAY),
              dockerImageReference: 'quay.io/x/y@sha256:aaa',
              generation: 1,
              image: { digest: 'sha256:aaa' },
            },
          ],
        }),
        tagView('ref', {
          spec: specView({ kind: 'DockerImage', name: 'quay.io/x/y:2' }, { reference: true }),
          history: [
            {
              created: at(10 * SECOND),
              dockerImageReference: 'quay.io/x/y:2',
              generation: 2,
              image: null,
            },
          ],
        }),
        tagView('pushed'),
      ],
    };
    expect(describeImageStream(stream, NOW)).toBe(
      [
        'Name:\t\t\tpython',
        'Namespace:\t\tdefault',
        'Created:\t\t5 minutes ago',
        'Labels:\t\t\tapp=ruby-sample-build',
        '\t\t\ttemplate=application-template-stibuild',
        'Annotations:\t\t<none>',
        'Image Repository:\tdocker-registry.default.svc:5000/default/python',
        'Image Lookup:\t\tlocal=false',
        'Unique Images:\t\t2',
        'Tags:\t\t\t3',
        '',
        'pushed',
        '  no spec tag',
        '',
        '',
        'ref',
        '  reference to registry quay.io/x/y:2',
        '',
        '  * quay.io/x/y:2',
        '      10 seconds ago',
        '',
        'scheduled',
        '  updates automatically from registry quay.io/x/y:1',
        '    will use insecure HTTPS or HTTP connections',
        '    prefer registry pullthrough when referencing this tag',
        '',
        '  ~ importing latest image ...',
        '  ! error: Import failed (NotFound): manifest unknown',
        '      3 minutes ago',
        '  * quay.io/x/y:1',
        '      2 hours ago\tsha256:bbb',
        '    quay.io/x/y@sha256:aaa',
        '      3 days ago',
        '',
      ].join('\n'),
    );
  });

  const image: ImageView = {
    digest: DIGEST,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    dockerImageReference: `centos/python-35-centos7@${DIGEST}`,
    architecture: 'amd64',
    os: 'linux',
    variant: null,
    created: at(15 * DAY),
    author: null,
    size: 251_200_000,
    config: {
      cmd: ['/bin/sh', '-c', '$STI_SCRIPTS_PATH/usage'],
      entrypoint: ['container-entrypoint'],
      env: null,
      labels: [{ key: 'build-date', value: '20170801' }],
      exposedPorts: ['8080/tcp'],
      user: '1001',
      workingDir: '/opt/app-root/src',
      volumes: null,
    },
    layers: [
      { digest: 'sha256:l1', size: 2_898_000, mediaType: 'x' },
      { digest: 'sha256:l2', size: 72_260_000, mediaType: 'x' },
      { digest: 'sha256:l3', size: 0, mediaType: 'x' },
    ],
    manifests: [],
  };

  const latest: StreamTagView = {
    ...python.tags[1]!,
    history: [{ ...python.tags[1]!.history[0]!, created: at(2 * MINUTE) }],
    image,
    stream: {
      name: 'python',
      namespace: 'default',
      pullSpec: python.pullSpec,
      lookupPolicy: { local: false },
    },
  };

  it('istag/python:latest prints the seed example exactly', () => {
    expect(describeImageStreamTag(latest, NOW)).toBe(
      [
        `Image Name:\t${DIGEST}`,
        `Docker Image:\tcentos/python-35-centos7@${DIGEST}`,
        `Name:\t\t${DIGEST}`,
        'Created:\t2 minutes ago',
        'Image Size:\t251.2 MB in 3 layers',
        'Layers:\t\t2.898 MB\tsha256:l1',
        '\t\t72.26 MB\tsha256:l2',
        '\t\t0 B\t\tsha256:l3',
        'Image Created:\t2 weeks ago',
        ...PYTHON_35_CONFIG_LINES,
        '',
      ].join('\n'),
    );
  });

  it('a manifest list shows Arch <none> and its children, as the PreserveOriginal example', () => {
    const list: StreamTagView = {
      ...latest,
      image: {
        ...image,
        architecture: null,
        os: null,
        created: null,
        config: null,
        layers: [],
        size: 1_234,
        manifests: [
          ['amd64', 'sha256:6e325b86566fafd3c4683a05a219c30c421fbccbf8d87ab9d20d4ec1131c3451'],
          ['arm64', 'sha256:d8fad562ffa75b96212c4a6dc81faf327d67714ed85475bf642729703a2b5bf6'],
          ['ppc64le', 'sha256:7b7e25338e40d8bdeb1b28e37fef5e64f0afd412530b257f5b02b30851f416e1'],
        ].map(([architecture, digest]) => ({
          digest: digest!,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          size: 500,
          os: 'linux',
          architecture: architecture!,
          variant: null,
        })),
      },
    };
    expect(describeImageStreamTag(list, NOW).split('\n').slice(4)).toEqual([
      'Layer Size:\t1.234 kB',
      'Image Created:\t<none>',
      'Author:\t\t<none>',
      'Arch:\t\t<none>',
      'Manifests:\tlinux/amd64\tsha256:6e325b86566fafd3c4683a05a219c30c421fbccbf8d87ab9d20d4ec1131c3451',
      '\t\tlinux/arm64\tsha256:d8fad562ffa75b96212c4a6dc81faf327d67714ed85475bf642729703a2b5bf6',
      '\t\tlinux/ppc64le\tsha256:7b7e25338e40d8bdeb1b28e37fef5e64f0afd412530b257f5b02b30851f416e1',
      '',
    ]);
  });
});

describe('prune images output', () => {
  const item = {
    namespace: 'default',
    stream: 'ruby',
    tag: '2.0',
    index: 3,
    dockerImageReference: 'quay.io/x/ruby@sha256:aaa',
    image: 'sha256:aaa',
    created: '2017-01-01T00:00:00Z',
  };

  it('a dry run says so, then lists history items and images', () => {
    expect(formatPrune({ dryRun: true, historyItems: [item], images: ['sha256:aaa'] })).toBe(
      'Dry run enabled - no modifications will be made. Add --confirm to remove images\n' +
        '\nDeleting references from image streams to images ...\n' +
        'STREAM         TAG       REVISION   IMAGE\n' +
        'default/ruby   2.0       3          sha256:aaa\n' +
        '\nDeleting images from server ...\n' +
        'IMAGE\n' +
        'sha256:aaa\n',
    );
  });

  it('nothing to do', () => {
    expect(formatPrune({ dryRun: false, historyItems: [], images: [] })).toBe(
      'Nothing to prune.\n',
    );
  });
});

it('watch prints one line per change', () => {
  const base = {
    cursor: 'c',
    time: '2025-01-01T00:00:00.000Z',
    namespace: 'default',
    stream: 'python',
    tag: '3.6',
    previous: null,
    current: null,
    importFailure: null,
  };
  expect(
    formatChange({
      ...base,
      type: 'UPDATED',
      cause: 'IMPORT',
      current: { digest: 'sha256:a', dockerImageReference: 'quay.io/p@sha256:a' },
    }),
  ).toBe('2025-01-01T00:00:00.000Z UPDATED IMPORT default/python:3.6 quay.io/p@sha256:a\n');
  expect(
    formatChange({
      ...base,
      type: 'UPDATED',
      cause: 'IMPORT',
      importFailure: { reason: 'NotFound', message: 'manifest unknown' },
    }),
  ).toBe(
    '2025-01-01T00:00:00.000Z UPDATED IMPORT default/python:3.6 import failed (NotFound): manifest unknown\n',
  );
  expect(formatChange({ ...base, type: 'DELETED', cause: 'DELETE' })).toBe(
    '2025-01-01T00:00:00.000Z DELETED DELETE default/python:3.6\n',
  );
  expect(formatChange({ ...base, type: 'ADDED', cause: 'TAG' })).toBe(
    '2025-01-01T00:00:00.000Z ADDED TAG default/python:3.6 spec changed\n',
  );
});
