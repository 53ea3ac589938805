// The web UI's shell: sign-in, routing by the URL's hash, the namespace and stream lists.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { RequestError, request, sendByHash, storedToken, storeToken } from './api.ts';
import {
  ME,
  type MeData,
  NAMESPACES,
  type NamespaceSummary,
  type NamespacesData,
  PAGE,
  SCHEDULED_TAGS,
  type ScheduledTagsData,
  STREAMS,
  type StreamsData,
} from './queries.ts';
import { StreamView } from './StreamView.tsx';

/** Where the hash points: `#/`, `#/ns/<ns>`, `#/ns/<ns>/<stream>[/<tag>]`. */
export interface Route {
  namespace: string | null;
  stream: string | null;
  tag: string | null;
}

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (parts[0] !== 'ns' || !parts[1]) return { namespace: null, stream: null, tag: null };
  return { namespace: parts[1], stream: parts[2] || null, tag: parts[3] || null };
}

export function routeHash(route: Partial<Route>): string {
  const parts = ['ns', route.namespace, route.stream, route.tag].filter(Boolean) as string[];
  return route.namespace ? `#/${parts.map(encodeURIComponent).join('/')}` : '#/';
}

type Session =
  | { state: 'checking' }
  | { state: 'signed-out'; error: string | null }
  | { state: 'signed-in'; token: string | null; subject: string; open: boolean };

export function App() {
  const [session, setSession] = useState<Session>({ state: 'checking' });
  const [route, setRoute] = useState<Route>(parseRoute(location.hash));

  useEffect(() => {
    const onHash = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  const signIn = useCallback(async (token: string | null) => {
    try {
      const { me } = await request<MeData>(token, ME);
      storeToken(token);
      setSession({ state: 'signed-in', token, subject: me.subject, open: token === null });
    } catch (error) {
      storeToken(null);
      const message =
        token === null
          ? null
          : error instanceof RequestError && error.code === 'UNAUTHENTICATED'
            ? 'The server did not accept this token.'
            : String((error as Error).message);
      setSession({ state: 'signed-out', error: message });
    }
  }, []);

  useEffect(() => {
    // Open mode needs no token; in token mode, one from earlier in this tab, else the form.
    fetch('/ui/session.json')
      .then(
        (response) =>
          response.json() as Promise<{ auth: 'open' | 'token'; trustedDocuments?: boolean }>,
      )
      .then(
        ({ auth, trustedDocuments }) => {
          sendByHash(trustedDocuments === true);
          const token = storedToken();
          if (auth === 'open') void signIn(null);
          else if (token) void signIn(token);
          else setSession({ state: 'signed-out', error: null });
        },
        (error: Error) => setSession({ state: 'signed-out', error: error.message }),
      );
  }, [signIn]);

  if (session.state === 'checking') return <p class="loading">Loading tagraph…</p>;
  if (session.state === 'signed-out') {
    return <SignIn error={session.error} onToken={(token) => void signIn(token)} />;
  }
  const signOut = () => {
    storeToken(null);
    setSession({ state: 'signed-out', error: null });
  };
  return (
    <div class="shell">
      <header class="top">
        <a class="brand" href="#/">
          tagraph
        </a>
        <nav aria-label="Breadcrumb" class="crumbs">
          {route.namespace && (
            <a href={routeHash({ namespace: route.namespace })}>{route.namespace}</a>
          )}
          {route.stream && (
            <a href={routeHash({ namespace: route.namespace, stream: route.stream })}>
              {route.stream}
            </a>
          )}
        </nav>
        <span class="who" data-testid="subject">
          {session.open ? 'open mode' : session.subject}
        </span>
        {!session.open && (
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        )}
      </header>
      <main>
        {route.namespace && route.stream ? (
          <StreamView
            key={`${route.namespace}/${route.stream}`}
            token={session.token}
            namespace={route.namespace}
            stream={route.stream}
            selected={route.tag}
          />
        ) : route.namespace ? (
          <StreamList key={route.namespace} token={session.token} namespace={route.namespace} />
        ) : (
          <NamespaceList token={session.token} />
        )}
      </main>
    </div>
  );
}

function SignIn(props: { error: string | null; onToken: (token: string) => void }) {
  const [token, setToken] = useState('');
  return (
    <div class="sign-in">
      <h1>tagraph</h1>
      <p>Paste an API token (or a JWT) to sign in. It is kept in this tab only.</p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (token.trim()) props.onToken(token.trim());
        }}
      >
        <label for="token">Token</label>
        <input
          id="token"
          type="password"
          autocomplete="off"
          value={token}
          onInput={(event) => setToken((event.target as HTMLInputElement).value)}
        />
        <button type="submit">Sign in</button>
        {props.error && (
          <p class="error" role="alert">
            {props.error}
          </p>
        )}
      </form>
    </div>
  );
}

/** Loads on mount and when `deps` change; the error as text. */
function useQuery<T>(load: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data: T | null; error: string | null }>({
    data: null,
    error: null,
  });
  useEffect(() => {
    let current = true;
    load().then(
      (data) => current && setState({ data, error: null }),
      (error: Error) => current && setState({ data: null, error: error.message }),
    );
    return () => {
      current = false;
    };
  }, deps);
  return state;
}

function NamespaceList(props: { token: string | null }) {
  const [filter, setFilter] = useState('');
  const { data, error } = useQuery(async () => {
    const all: NamespaceSummary[] = [];
    let after: string | null = null;
    // At most 10 pages (1,000 namespaces) in this list.
    for (let page = 0; page < 10; page++) {
      const result: NamespacesData = await request<NamespacesData>(props.token, NAMESPACES, {
        after,
      });
      all.push(...result.namespaces.nodes);
      if (!result.namespaces.pageInfo.hasNextPage) break;
      after = result.namespaces.pageInfo.endCursor;
    }
    return all;
  }, [props.token]);
  if (error) return <p class="error">{error}</p>;
  if (!data) return <p class="loading">Loading namespaces…</p>;
  const shown = data.filter((ns) => ns.name.includes(filter));
  return (
    <section>
      <h1>Namespaces</h1>
      <input
        class="search"
        type="search"
        placeholder="Filter namespaces"
        aria-label="Filter namespaces"
        value={filter}
        onInput={(event) => setFilter((event.target as HTMLInputElement).value)}
      />
      {data.length === 0 && <p>No namespace you may read.</p>}
      <table class="list" data-testid="namespaces">
        <thead>
          <tr>
            <th>Namespace</th>
            <th>Your role</th>
            <th class="num">Streams</th>
            <th class="num">Tags</th>
            <th class="num">Failing imports</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((ns) => (
            <tr key={ns.name}>
              <td>
                <a href={routeHash({ namespace: ns.name })}>{ns.name}</a>
              </td>
              <td>{roleLabel(ns.myRole)}</td>
              <td class="num">{ns.imageStreamCount}</td>
              <td class="num">{ns.tagCount}</td>
              <td class={`num${ns.failingImportCount > 0 ? ' failing' : ''}`}>
                {ns.failingImportCount}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function roleLabel(role: string | null): string {
  return role === 'ADMIN' ? 'admin' : role === 'EDITOR' ? 'editor' : role ? 'viewer' : '—';
}

/** The "changed within" choices of the stream list, in milliseconds. */
const CHANGED_WITHIN: Record<string, number> = {
  'last hour': 3_600_000,
  'last 24 hours': 86_400_000,
  'last 7 days': 7 * 86_400_000,
};
/** The scheduled filter reads at most this many pages of the namespace's tags. */
const MAX_SCHEDULED_PAGES = 10;

/** The streams of `namespace` with a tag re-checked on a schedule, by their count of such tags. */
async function scheduledStreams(
  token: string | null,
  namespace: string,
): Promise<{ counts: Map<string, number>; complete: boolean }> {
  const counts = new Map<string, number>();
  let after: string | null = null;
  for (let page = 0; page < MAX_SCHEDULED_PAGES; page++) {
    const result: ScheduledTagsData = await request<ScheduledTagsData>(token, SCHEDULED_TAGS, {
      namespace,
      after,
    });
    const tags = result.namespace?.tags;
    if (!tags) break;
    for (const tag of tags.nodes) {
      if (!tag.spec?.importPolicy.scheduled) continue;
      counts.set(tag.stream.name, (counts.get(tag.stream.name) ?? 0) + 1);
    }
    if (!tags.pageInfo.hasNextPage) return { counts, complete: true };
    after = tags.pageInfo.endCursor;
  }
  return { counts, complete: after === null };
}

function StreamList(props: { token: string | null; namespace: string }) {
  const [search, setSearch] = useState('');
  const [onlyFailing, setOnlyFailing] = useState(false);
  const [onlyScheduled, setOnlyScheduled] = useState(false);
  const [changedWithin, setChangedWithin] = useState('');
  const { data, error } = useQuery(() => {
    const within = CHANGED_WITHIN[changedWithin];
    const changedAfter = within ? new Date(Date.now() - within).toISOString() : null;
    return request<StreamsData>(props.token, STREAMS, {
      namespace: props.namespace,
      filter: search ? { nameContains: search } : null,
      changedAfter,
    }).then((streams) => ({ streams, changedAfter }));
  }, [props.token, props.namespace, search, changedWithin]);
  const scheduled = useQuery(
    () =>
      onlyScheduled
        ? scheduledStreams(props.token, props.namespace)
        : Promise.resolve({ counts: new Map<string, number>(), complete: true }),
    [props.token, props.namespace, onlyScheduled],
  );
  const changedAfter = data?.changedAfter ? Date.parse(data.changedAfter) : null;
  const streams = data?.streams;
  return (
    <section>
      <h1>Streams of {props.namespace}</h1>
      <div class="filters">
        <input
          class="search"
          type="search"
          placeholder="Name contains"
          aria-label="Filter streams by name"
          value={search}
          onInput={(event) => setSearch((event.target as HTMLInputElement).value)}
        />
        <Toggle label="failing imports only" checked={onlyFailing} onChange={setOnlyFailing} />
        <Toggle
          label="scheduled imports only"
          checked={onlyScheduled}
          onChange={setOnlyScheduled}
        />
        <label>
          changed{' '}
          <select
            aria-label="Changed within"
            value={changedWithin}
            onChange={(event) => setChangedWithin((event.target as HTMLSelectElement).value)}
          >
            <option value="">any time</option>
            {Object.keys(CHANGED_WITHIN).map((label) => (
              <option key={label} value={label}>
                in the {label}
              </option>
            ))}
          </select>
        </label>
      </div>
      {(error ?? scheduled.error) && <p class="error">{error ?? scheduled.error}</p>}
      {((!data && !error) || (onlyScheduled && !scheduled.data && !scheduled.error)) && (
        <p class="loading">Loading streams…</p>
      )}
      {onlyScheduled && scheduled.data && !scheduled.data.complete && (
        <p class="note">
          The scheduled filter read the first {MAX_SCHEDULED_PAGES * PAGE} scheduled and policy tags
          only.
        </p>
      )}
      {streams && !streams.namespace && <p>No such namespace, or you may not read it.</p>}
      {streams?.namespace && (
        <table class="list" data-testid="streams">
          <thead>
            <tr>
              <th>Stream</th>
              <th class="num">Tags</th>
              <th class="num">Failing</th>
              <th>Pull spec</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {streams.namespace.imageStreams.nodes
              .filter((s) => !onlyFailing || s.failing.totalCount > 0)
              .filter((s) => !onlyScheduled || (scheduled.data?.counts.get(s.name) ?? 0) > 0)
              .filter(
                (s) =>
                  changedAfter === null ||
                  s.changed.totalCount > 0 ||
                  Date.parse(s.updatedAt) > changedAfter,
              )
              .map((s) => (
                <tr key={s.name}>
                  <td>
                    <a href={routeHash({ namespace: props.namespace, stream: s.name })}>{s.name}</a>
                  </td>
                  <td class="num">{s.tags.totalCount}</td>
                  <td class={`num${s.failing.totalCount > 0 ? ' failing' : ''}`}>
                    {s.failing.totalCount}
                  </td>
                  <td>
                    <code>{s.pullSpec}</code> <CopyButton text={s.pullSpec} />
                  </td>
                  <td>{new Date(s.updatedAt).toLocaleString()}</td>
                </tr>
              ))}
          </tbody>
        </table>
      )}
      {streams?.namespace?.imageStreams.pageInfo.hasNextPage && (
        <p class="note">
          Showing the first {streams.namespace.imageStreams.nodes.length} of{' '}
          {streams.namespace.imageStreams.totalCount}: narrow the filter.
        </p>
      )}
    </section>
  );
}

/** A labelled checkbox of the list filters. */
function Toggle(props: { label: string; checked: boolean; onChange: (checked: boolean) => void }) {
  return (
    <label>
      <input
        type="checkbox"
        checked={props.checked}
        onChange={(event) => props.onChange((event.target as HTMLInputElement).checked)}
      />{' '}
      {props.label}
    </label>
  );
}

export function CopyButton(props: { text: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      class="small"
      onClick={() =>
        void navigator.clipboard?.writeText(props.text).then(
          () => setCopied(true),
          () => setCopied(false),
        )
      }
    >
      {copied ? 'Copied' : 'Copy'}
    </button>
  );
}
