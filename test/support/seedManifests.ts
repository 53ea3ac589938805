// The ImageStream definitions of the OpenShift image-stream documentation examples, as YAML. The
// documents were flattened to text; these restore their indentation, turn the callout numbers
// into comments, and keep the rest as published: `# ...` elisions, quoting, `annotations: null`,
// `importPolicy: { }`, and one example's `tags` beside `spec` instead of in it.

/** The `tags` of both examples' status: `latest` with its two-image history, at two spaces. */
const RUBY_SAMPLE_TAGS = `  tags:
  - items:
    - created: 2017-09-02T10:15:09Z
      dockerImageReference: 172.30.56.218:5000/test/origin-ruby-sample@sha256:47463d94eb5c049b2d23b03a9530bf944f8f967a0fe79147dd6b9135bf7dd13d
      generation: 2
      image: sha256:909de62d1f609a717ec433cc25ca5cf00941545c83a01fb31527771e1fab3fc5
    - created: 2017-09-01T13:40:11Z
      dockerImageReference: 172.30.56.218:5000/test/origin-ruby-sample@sha256:909de62d1f609a717ec433cc25ca5cf00941545c83a01fb31527771e1fab3fc5
      generation: 1
      image: sha256:47463d94eb5c049b2d23b03a9530bf944f8f967a0fe79147dd6b9135bf7dd13d
    tag: latest
`;

/** The example "Imagestream object definition": metadata and status only (`spec: {}`). */
export const ORIGIN_RUBY_SAMPLE = `apiVersion: image.openshift.io/v1
kind: ImageStream
metadata:
  annotations:
    openshift.io/generated-by: OpenShiftNewApp
  labels:
    app: ruby-sample-build
    template: application-template-stibuild
  name: origin-ruby-sample
  namespace: test
spec: {}
status:
  dockerImageRepository: 172.30.56.218:5000/test/origin-ruby-sample
${RUBY_SAMPLE_TAGS}`;

/** The example "Image stream tag with two images in its history", elisions and all. */
export const MY_IMAGE_STREAM = `kind: ImageStream
apiVersion: image.openshift.io/v1
metadata:
  name: my-image-stream
# ...
${RUBY_SAMPLE_TAGS}# ...
`;

/** "oc set image-lookup mysql … sets the Imagestream.spec.lookupPolicy.local field to true." */
export const MYSQL = `apiVersion: v1
kind: ImageStream
metadata:
  annotations:
    openshift.io/display-name: mysql
  name: mysql
  namespace: myproject
spec:
  lookupPolicy:
    local: true
`;

/** "Set the spec.dockerImageRepository field to the Docker pull spec for the image". */
export const MY_RUBY = `apiVersion: "v1"
kind: "ImageStream"
metadata:
  name: "my-ruby"
spec:
  dockerImageRepository: "docker.io/openshift/ruby-20-centos7"
`;

/** "After the tag and image metadata is synchronized, the image stream object would look…" */
export const MY_RUBY_SYNCED = `apiVersion: v1
kind: ImageStream
metadata:
  name: my-ruby
  namespace: demo-project
  selflink: /oapi/v1/namespaces/demo-project/imagestreams/my-ruby
  uid: 5b9bd745-13d2-11e6-9a86-0ada84b8265d
  resourceVersion: '4699413'
  generation: 2
  creationTimestamp: '2016-05-06T21:34:48Z'
  annotations:
    openshift.io/image.dockerRepositoryCheck: '2016-05-06T21:34:48Z'
spec:
  dockerImageRepository: docker.io/openshift/ruby-20-centos7
  tags:
    -
      name: latest
      annotations: null
      from:
        kind: DockerImage
        name: 'docker.io/openshift/ruby-20-centos7:latest'
      generation: 2
      importPolicy: { }
status:
  dockerImageRepository: '172.30.94.234:5000/demo-project/my-ruby'
  tags:
    -
      tag: latest
      items:
        -
          created: '2016-05-06T21:34:48Z'
          dockerImageReference: 'docker.io/openshift/ruby-20-centos7@sha256:772c5bf9b2d1e8e80742ed75aab05820419dc4532fa6d7ad8a1efddda5493dc3'
          image: 'sha256:772c5bf9b2d1e8e80742ed75aab05820419dc4532fa6d7ad8a1efddda5493dc3'
          generation: 2
`;

/** "Alternatively, you can set importPolicy.scheduled to true in the tag's definition". */
export const RUBY_SCHEDULED = `apiVersion: v1
kind: ImageStream
metadata:
  name: ruby
spec:
  tags:
  - from:
      kind: DockerImage
      name: openshift/ruby-20-centos7
    name: latest
    importPolicy:
      scheduled: true
`;

/** The `openshift.io/image.insecureRepository` annotation example. */
export const RUBY_INSECURE_REPOSITORY = `kind: ImageStream
apiVersion: v1
metadata:
  name: ruby
  annotations:
    openshift.io/image.insecureRepository: "true" # (1)
spec:
  dockerImageRepository: my.repo.com:5000/myimage
`;

/** The insecure tag and Local reference policy example (its `tags` sits beside `spec`). */
export const RUBY_MYTAG = `kind: ImageStream
apiVersion: v1
metadata:
  name: ruby
tags:
  - from:
      kind: DockerImage
      name: my.repo.com:5000/myimage
    name: mytag
    importPolicy:
      insecure: true # (1)
    referencePolicy:
      type: Local # (2)
`;

/** "An image stream definition specifies information about the image stream and the tags". */
export const RUBY_CATALOG = `apiVersion: v1
kind: ImageStream
metadata:
  name: ruby
  annotations:
    openshift.io/display-name: Ruby # (1)
spec:
  tags:
    - name: '2.0' # (2)
      annotations:
        openshift.io/display-name: Ruby 2.0 # (3)
        description: >- # (4)
          Build and run Ruby 2.0 applications on CentOS 7. For more information about
          using this builder image, including OpenShift considerations, see
          https://github.com/sclorg/s2i-ruby-container/tree/master/2.0/README.md.
        iconClass: icon-ruby # (5)
        sampleRepo: 'https://github.com/sclorg/ruby-ex.git' # (6)
        tags: 'builder,ruby' # (7)
        supports: 'ruby' # (8)
        version: '2.0' # (9)
      from:
        kind: DockerImage # (10)
        name: 'docker.io/openshift/ruby-20-centos7:latest' # (11)
`;

/** The example "Image stream mapping object definition" (abridged): not an ImageStream. */
export const IMAGE_STREAM_MAPPING = `apiVersion: image.openshift.io/v1
kind: ImageStreamMapping
metadata:
  creationTimestamp: null
  name: origin-ruby-sample
  namespace: test
tag: latest
image:
  dockerImageReference: 172.30.56.218:5000/test/origin-ruby-sample@sha256:47463d94eb5c049b2d23b03a9530bf944f8f967a0fe79147dd6b9135bf7dd13d
`;

export const RUBY_CATALOG_DESCRIPTION =
  'Build and run Ruby 2.0 applications on CentOS 7. For more information about using this ' +
  'builder image, including OpenShift considerations, see ' +
  'https://github.com/sclorg/s2i-ruby-container/tree/master/2.0/README.md.';
