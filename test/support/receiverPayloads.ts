// Push payloads as each registry vendor documents them (field names from their webhook docs), for receiver tests.

/** Docker Hub repository webhook: `push_data.tag`, `repository.repo_name`. */
export function dockerHubPayload(repository: string, tag: string) {
  const [namespace, name] = repository.split('/');
  return {
    callback_url:
      'https://registry.hub.docker.com/u/example/app/hook/2141b5bi5i5b02bec211i4eeih0242eg11000a/',
    push_data: { pushed_at: 1417566161, pusher: 'trustedbuilder', tag, images: [] },
    repository: {
      comment_count: 0,
      date_created: 1417494799,
      description: '',
      dockerfile: 'FROM scratch\n',
      full_description: '',
      is_official: false,
      is_private: true,
      is_trusted: true,
      name,
      namespace,
      owner: namespace,
      repo_name: repository,
      repo_url: `https://registry.hub.docker.com/u/${repository}/`,
      star_count: 0,
      status: 'Active',
    },
  };
}

/** Quay repository push notification: `repository`, `docker_url`, `updated_tags`. */
export function quayPayload(host: string, repository: string, tags: string[]) {
  const [namespace, name] = repository.split('/');
  return {
    name,
    repository,
    namespace,
    docker_url: `${host}/${repository}`,
    homepage: `https://${host}/repository/${repository}`,
    updated_tags: tags,
  };
}

/** Harbor PUSH_ARTIFACT (default format): `event_data.resources[].tag`, `event_data.repository`. */
export function harborPayload(host: string, repository: string, tag: string, digest: string) {
  const [namespace, name] = repository.split('/');
  return {
    type: 'PUSH_ARTIFACT',
    occur_at: 1680501893,
    operator: 'admin',
    event_data: {
      resources: [{ digest, tag, resource_url: `${host}/${repository}:${tag}` }],
      repository: {
        date_created: 1680501893,
        name,
        namespace,
        repo_full_name: repository,
        repo_type: 'private',
      },
    },
  };
}

/**
 * GitHub `package` event, action `published`: `package.namespace`, `package.name`,
 * `package.package_version.container_metadata.tag.name`.
 */
export function githubPayload(repository: string, tag: string, digest: string) {
  const [namespace, name] = repository.split('/');
  return {
    action: 'published',
    package: {
      id: 1,
      name,
      namespace,
      description: '',
      ecosystem: 'CONTAINER',
      package_type: 'CONTAINER',
      html_url: `https://github.com/${namespace}/packages/1`,
      owner: { login: namespace },
      package_version: {
        id: 2,
        version: digest,
        name: digest,
        description: '',
        html_url: `https://github.com/${namespace}/packages/1?version=${digest}`,
        container_metadata: {
          tag: { name: tag, digest },
          labels: { description: '' },
          manifest: {},
        },
        installation_command: `docker pull ghcr.io/${repository}:${tag}`,
        package_url: `ghcr.io/${repository}:${tag}`,
      },
      registry: {
        about_url: 'https://docs.github.com',
        name: 'GitHub CONTAINER registry',
        type: 'CONTAINER',
        url: 'https://ghcr.io',
        vendor: 'GitHub Inc',
      },
    },
    sender: { login: namespace },
  };
}
