// The GraphiQL page on GET /graphql: every asset inlined from the installed package (no CDN).
import type { GraphiQLOptions } from 'graphql-yoga';
import type { Config } from './config.ts';

/** What GraphiQL opens with: namespaces, their image streams and each tag with what it tracks. */
export const GRAPHIQL_DEFAULT_QUERY = `# tagraph: the image streams you may read and their tags.
# With a token (TAGRAPH_AUTH=token), open Headers below,
# enter {"Authorization": "Bearer <token>"}, then run
# this query (the button, or Ctrl+Enter).
query TagGraph {
  me {
    subject
  }
  namespaces(first: 10) {
    nodes {
      name
      imageStreams(first: 10) {
        nodes {
          name
          pullSpec
          tags(first: 20) {
            nodes {
              name
              follows {
                name
              }
              pullSpec
              image {
                digest
              }
            }
          }
        }
      }
    }
  }
}
`;

/** The options of the page: tagraph's title and query; headers are never saved in the browser. */
export function graphiqlOptions(config: Config): GraphiQLOptions | false {
  if (!config.graphiql) return false;
  return {
    title: 'tagraph',
    defaultQuery: GRAPHIQL_DEFAULT_QUERY,
    // A token typed into the headers editor stays in that tab only (not in localStorage).
    shouldPersistHeaders: false,
  };
}

/**
 * Renders the page once per option set: it inlines GraphiQL's script, styles and editor workers
 * (about 9 MB), so building it per request would cost more than serving it. The package is
 * loaded at the first page request (about 0.8 s and 50 MB), not by servers that never serve it.
 */
export function cachedGraphiqlRenderer(): (options: GraphiQLOptions) => Promise<string> {
  const pages = new Map<string, Promise<string>>();
  return (options) => {
    const key = JSON.stringify(options);
    let page = pages.get(key);
    if (page === undefined) {
      page = import('@graphql-yoga/render-graphiql').then(({ renderGraphiQL }) =>
        renderGraphiQL(options),
      );
      page.catch(() => pages.delete(key));
      pages.set(key, page);
    }
    return page;
  };
}
