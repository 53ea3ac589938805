// The runtime settings an image's config blob declares, as stored with the image and served.

/** What the registry's image config says a container runs with; every field is optional. */
export interface ImageConfig {
  cmd?: string[];
  entrypoint?: string[];
  env?: string[];
  labels?: Record<string, string>;
  exposedPorts?: string[];
  user?: string;
  workingDir?: string;
  volumes?: string[];
}
