// Texts the CLI's unit tests and its end-to-end tests share: what it prints for a documented
// example, and a hostile manifest it must refuse.

/**
 * The image config part of the documented `oc describe istag/python:latest` output
 * (centos/python-35-centos7), after its size and layers.
 */
export const PYTHON_35_CONFIG_LINES = [
  'Author:\t\t<none>',
  'Arch:\t\tamd64',
  'Entrypoint:\tcontainer-entrypoint',
  'Command:\t/bin/sh -c $STI_SCRIPTS_PATH/usage',
  'Working Dir:\t/opt/app-root/src',
  'User:\t\t1001',
  'Exposes Ports:\t8080/tcp',
  'Docker Labels:\tbuild-date=20170801',
];

/** The classic YAML bomb: nine levels of nine aliases each, 9^9 strings once expanded. */
export const BILLION_LAUGHS = [
  'apiVersion: image.openshift.io/v1',
  'kind: ImageStream',
  'metadata:',
  '  name: lol',
  '  annotations:',
  `    a: &a [${Array(9).fill('"lol"').join(', ')}]`,
  ...'bcdefghi'
    .split('')
    .map((name, i) => `    ${name}: &${name} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(', ')}]`),
  '',
].join('\n');
