// The selected tag: spec and status, history, image details, a diff of two items, and editors' actions.
import { useEffect, useState } from 'preact/hooks';
import { CopyButton } from './App.tsx';
import { request } from './api.ts';
import { importFailing, tagKind } from './graphModel.ts';
import {
  DELETE_TAG,
  IMAGE_DIFF,
  IMPORT_NOW,
  type ImageDetails,
  type ImageDiffData,
  type ImageDiffResult,
  type MutationResult,
  ROLLBACK,
  TAG,
  TAG_DETAILS,
  type TagDetailsData,
  type TagFields,
  type TypedError,
} from './queries.ts';

interface Props {
  token: string | null;
  namespace: string;
  stream: string;
  tag: TagFields;
  tagNames: string[];
  canEdit: boolean;
  /** Changes when a live update touched this tag: reload its details. */
  revision: number;
  onClose: () => void;
}

type Details = Extract<
  NonNullable<TagDetailsData['imageStreamTag']>,
  { __typename: 'ImageStreamTag' }
>;

export function TagPanel(props: Props) {
  const { tag } = props;
  const ref = `${props.stream}:${tag.name}`;
  const [details, setDetails] = useState<Details | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [compare, setCompare] = useState<number[]>([]);

  useEffect(() => {
    let current = true;
    request<TagDetailsData>(props.token, TAG_DETAILS, { namespace: props.namespace, ref }).then(
      (data) => {
        if (!current) return;
        const answer = data.imageStreamTag;
        if (answer && answer.__typename === 'ImageStreamTag') setDetails(answer as Details);
        else setError(answer ? (answer as TypedError).message : 'This tag no longer exists.');
      },
      (failure: Error) => current && setError(failure.message),
    );
    return () => {
      current = false;
    };
  }, [props.token, props.namespace, ref, props.revision]);

  const kind = tagKind(props.namespace, props.stream, tag);
  const failing = importFailing(tag);
  return (
    <aside class="panel" aria-label={`Tag ${tag.name}`} data-testid="tag-panel">
      <header>
        <h2>{ref}</h2>
        <button
          type="button"
          class="small"
          onClick={props.onClose}
          aria-label="Close the tag panel"
        >
          Close
        </button>
      </header>
      <dl class="facts">
        <dt>Kind</dt>
        <dd data-testid="tag-kind">
          {kind}
          {tag.policy ? ` · policy (${tag.policy.kind.toLowerCase()})` : ''}
        </dd>
        <dt>Source</dt>
        <dd>
          {tag.spec?.from
            ? `${tag.spec.from.kind} ${tag.spec.from.namespace ? `${tag.spec.from.namespace}/` : ''}${tag.spec.from.name}`
            : 'none (pushed)'}
        </dd>
        {tag.spec && (
          <>
            <dt>Import</dt>
            <dd>
              {tag.spec.reference ? 'reference (never imported)' : tag.spec.importPolicy.importMode}
              {tag.spec.importPolicy.scheduled ? ' · scheduled' : ''}
              {tag.spec.importPolicy.insecure ? ' · insecure' : ''}
              {tag.importPending ? ' · pending' : ''}
            </dd>
            <dt>Reference policy</dt>
            <dd>{tag.spec.referencePolicy.type}</dd>
          </>
        )}
        <dt>Pull spec</dt>
        <dd>
          {tag.pullSpec ? (
            <>
              <code>{tag.pullSpec}</code> <CopyButton text={tag.pullSpec} />
            </>
          ) : (
            'none yet'
          )}
        </dd>
        {tag.promotedFrom && (
          <>
            <dt>Promoted from</dt>
            <dd>
              {tag.promotedFrom.namespace}/{tag.promotedFrom.stream}:{tag.promotedFrom.tag}{' '}
              (generation {tag.promotedFrom.generation})
            </dd>
          </>
        )}
      </dl>
      {tag.conditions.length > 0 && (
        <div class={`conditions${failing ? ' failing' : ''}`}>
          {tag.conditions.map((c) => (
            <p key={c.type}>
              <strong>
                {c.type}={c.status}
              </strong>{' '}
              {c.reason}: {c.message}
            </p>
          ))}
        </div>
      )}
      {props.canEdit && (
        <Actions
          token={props.token}
          namespace={props.namespace}
          stream={props.stream}
          tag={tag}
          tagNames={props.tagNames}
          onDeleted={props.onClose}
        />
      )}
      {error && <p class="error">{error}</p>}
      {details && (
        <>
          <History
            {...props}
            details={details}
            compare={compare}
            onCompare={(index) =>
              setCompare((current) =>
                current.includes(index)
                  ? current.filter((i) => i !== index)
                  : [...current, index].slice(-2),
              )
            }
          />
          {compare.length === 2 && (
            <Diff
              token={props.token}
              namespace={props.namespace}
              stream={props.stream}
              from={details.history.nodes[Math.max(...compare)]?.image?.digest ?? null}
              to={details.history.nodes[Math.min(...compare)]?.image?.digest ?? null}
            />
          )}
          {details.image && <Image image={details.image} />}
        </>
      )}
    </aside>
  );
}

function History(
  props: Props & { details: Details; compare: number[]; onCompare: (index: number) => void },
) {
  const { history } = props.details;
  const [rollback, setRollback] = useState<{
    index: number;
    error: string | null;
    done: string | null;
  } | null>(null);
  const run = async (index: number) => {
    const result = await mutate(props.token, ROLLBACK, {
      input: {
        namespace: props.namespace,
        ref: `${props.stream}:${props.tag.name}`,
        to: { index },
      },
    });
    setRollback({ index, ...result });
  };
  return (
    <section class="history">
      <h3>
        History ({history.totalCount} item{history.totalCount === 1 ? '' : 's'})
      </h3>
      <p class="hint">Tick two items to compare their images.</p>
      <ol data-testid="history">
        {history.nodes.map((item, index) => (
          <li
            key={`${item.generation}-${item.created}-${index}`}
            class={index === 0 ? 'current' : ''}
          >
            <label>
              <input
                type="checkbox"
                checked={props.compare.includes(index)}
                disabled={!item.image}
                onChange={() => props.onCompare(index)}
                aria-label={`Compare item ${index}`}
              />{' '}
              <span class="index">#{index}</span> gen {item.generation} ·{' '}
              <time dateTime={item.created}>{new Date(item.created).toLocaleString()}</time>
            </label>
            <div>
              <code>{item.image?.digest.slice(0, 19) ?? item.dockerImageReference}</code>
              {item.copiedFrom && (
                <span class="copied">
                  {' '}
                  ← {item.copiedFrom.namespace}/{item.copiedFrom.stream}:{item.copiedFrom.tag}
                </span>
              )}
            </div>
            {item.actor && (
              <div
                class="actor"
                data-testid="actor"
                title={`${item.actor.kind} via ${item.actor.source}`}
              >
                by {item.actor.subject}
                {item.actor.source === 'api' ? '' : ` (${item.actor.source})`}
              </div>
            )}
            {props.canEdit && index > 0 && (
              <div class="row-actions">
                {rollback?.index === index && rollback.error === 'confirm' ? (
                  <>
                    <span>Roll back to #{index}?</span>{' '}
                    <button type="button" class="danger small" onClick={() => void run(index)}>
                      Confirm rollback
                    </button>{' '}
                    <button type="button" class="small" onClick={() => setRollback(null)}>
                      Cancel
                    </button>
                  </>
                ) : (
                  <button
                    type="button"
                    class="small"
                    onClick={() => setRollback({ index, error: 'confirm', done: null })}
                  >
                    Roll back here
                  </button>
                )}
                {rollback?.index === index && rollback.error && rollback.error !== 'confirm' && (
                  <p class="error" role="alert">
                    {rollback.error}
                  </p>
                )}
                {rollback?.index === index && rollback.done && <p class="ok">{rollback.done}</p>}
              </div>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}

/** Runs a mutation; a typed error (or a refused request) as text, else the payload's message. */
async function mutate(
  token: string | null,
  document: string,
  variables: Record<string, unknown>,
): Promise<{ error: string | null; field: string | null; done: string | null }> {
  try {
    const data = await request<Record<string, MutationResult>>(token, document, variables);
    const result = Object.values(data)[0]!;
    if ('code' in result && result.code) {
      const typed = result as TypedError;
      return { error: `${typed.code}: ${typed.message}`, field: typed.field, done: null };
    }
    const payload = result as {
      message?: string;
      results?: { message: string }[];
      job?: { id: string };
    };
    const done =
      payload.message ??
      payload.results?.map((r) => r.message).join('; ') ??
      (payload.job ? `Import queued (job ${payload.job.id}).` : 'Done.');
    return { error: null, field: null, done };
  } catch (failure) {
    return { error: (failure as Error).message, field: null, done: null };
  }
}

function Actions(props: {
  token: string | null;
  namespace: string;
  stream: string;
  tag: TagFields;
  tagNames: string[];
  onDeleted: () => void;
}) {
  const [source, setSource] = useState(`${props.stream}:${props.tag.name}`);
  const [destination, setDestination] = useState('');
  const [track, setTrack] = useState(false);
  const [result, setResult] = useState<{
    action: string;
    error: string | null;
    field: string | null;
    done: string | null;
  } | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const busy = result?.action === 'busy';
  const act = async (action: string, document: string, variables: Record<string, unknown>) => {
    setResult({ action: 'busy', error: null, field: null, done: null });
    setResult({ action, ...(await mutate(props.token, document, variables)) });
  };
  const fieldError = (action: string, field: string) =>
    result?.action === action && result.error && result.field?.startsWith(field) ? (
      <p class="error" role="alert" data-field={field}>
        {result.error}
      </p>
    ) : null;
  const generalError = (action: string, fields: string[]) =>
    result?.action === action &&
    result.error &&
    !fields.some((field) => result.field?.startsWith(field)) ? (
      <p class="error" role="alert">
        {result.error}
      </p>
    ) : null;
  const canImport = props.tag.spec?.from?.kind === 'DockerImage' && !props.tag.spec.reference;
  return (
    <section class="actions" aria-label="Actions">
      <h3>Actions</h3>
      <form
        class="tag-form"
        onSubmit={(event) => {
          event.preventDefault();
          const destinations = destination
            .split(/[\s,]+/)
            .filter(Boolean)
            .map((name) => (name.includes(':') ? name : `${props.stream}:${name}`));
          void act('tag', TAG, {
            input: { namespace: props.namespace, source, destinations, alias: track || null },
          });
        }}
      >
        <label for="tag-source">Source</label>
        <input
          id="tag-source"
          value={source}
          onInput={(event) => setSource((event.target as HTMLInputElement).value)}
        />
        {fieldError('tag', 'source')}
        <label for="tag-destination">New tag(s)</label>
        <input
          id="tag-destination"
          placeholder="prod, or stream:tag"
          value={destination}
          onInput={(event) => setDestination((event.target as HTMLInputElement).value)}
        />
        {fieldError('tag', 'destinations')}
        <label class="check">
          <input
            type="checkbox"
            checked={track}
            onChange={(event) => setTrack((event.target as HTMLInputElement).checked)}
          />{' '}
          track the source (alias) instead of pinning its image
        </label>
        <button type="submit" disabled={busy}>
          Tag
        </button>
        {generalError('tag', ['source', 'destinations'])}
        {result?.action === 'tag' && result.done && <p class="ok">{result.done}</p>}
      </form>
      <div class="buttons">
        {canImport && (
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              void act('import', IMPORT_NOW, {
                input: { namespace: props.namespace, image: `${props.stream}:${props.tag.name}` },
              })
            }
          >
            Import now
          </button>
        )}
        {confirmDelete ? (
          <>
            <span>Delete {props.tag.name} and its history?</span>
            <button
              type="button"
              class="danger"
              disabled={busy}
              onClick={() => {
                setConfirmDelete(false);
                void act('delete', DELETE_TAG, {
                  input: { namespace: props.namespace, ref: `${props.stream}:${props.tag.name}` },
                }).then(() => undefined);
              }}
            >
              Confirm delete
            </button>
            <button type="button" onClick={() => setConfirmDelete(false)}>
              Cancel
            </button>
          </>
        ) : (
          <button
            type="button"
            class="danger"
            disabled={busy}
            onClick={() => setConfirmDelete(true)}
          >
            Delete tag
          </button>
        )}
      </div>
      {result && result.action !== 'tag' && result.action !== 'busy' && (
        <p class={result.error ? 'error' : 'ok'} role={result.error ? 'alert' : undefined}>
          {result.error ?? result.done}
        </p>
      )}
    </section>
  );
}

function Diff(props: {
  token: string | null;
  namespace: string;
  stream: string;
  from: string | null;
  to: string | null;
}) {
  const [diff, setDiff] = useState<ImageDiffResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!props.from || !props.to) return;
    let current = true;
    const at = (digest: string) => `${props.namespace}/${props.stream}@${digest}`;
    request<ImageDiffData>(props.token, IMAGE_DIFF, {
      from: at(props.from),
      to: at(props.to),
    }).then(
      (data) => {
        if (!current) return;
        if (data.imageDiff.__typename === 'ImageDiff') {
          setDiff(data.imageDiff as ImageDiffResult);
          setError(null);
        } else setError((data.imageDiff as TypedError).message);
      },
      (failure: Error) => current && setError(failure.message),
    );
    return () => {
      current = false;
    };
  }, [props.token, props.namespace, props.stream, props.from, props.to]);
  if (error) return <p class="error">{error}</p>;
  if (!diff) return <p class="loading">Comparing…</p>;
  const { config, layers } = diff;
  return (
    <section class="diff" data-testid="diff">
      <h3>Older → newer</h3>
      {diff.identical ? (
        <p>Both items name the same image.</p>
      ) : (
        <>
          <p>
            Layers: +{layers.addedCount} −{layers.removedCount} ({layers.commonCount} shared)
          </p>
          <KeyValueDiff title="Environment" values={config.env} />
          <KeyValueDiff title="Labels" values={config.labels} />
          {(['entrypoint', 'cmd', 'user', 'workingDir'] as const).map((name) => {
            const change = config[name];
            if (!change) return null;
            return (
              <p key={name}>
                {name}: <del>{JSON.stringify(change.before)}</del> →{' '}
                <ins>{JSON.stringify(change.after)}</ins>
              </p>
            );
          })}
          {(config.exposedPorts.added.length > 0 || config.exposedPorts.removed.length > 0) && (
            <p>
              Ports: {config.exposedPorts.added.map((p) => `+${p}`).join(' ')}{' '}
              {config.exposedPorts.removed.map((p) => `−${p}`).join(' ')}
            </p>
          )}
        </>
      )}
    </section>
  );
}

function KeyValueDiff(props: { title: string; values: ImageDiffResult['config']['env'] }) {
  const { values } = props;
  if (values.addedCount + values.removedCount + values.changedCount === 0) return null;
  return (
    <div>
      <h4>{props.title}</h4>
      <ul class="kv-diff">
        {values.added.map((kv) => (
          <li key={`+${kv.key}`} class="added">
            + {kv.key}={kv.value}
          </li>
        ))}
        {values.removed.map((kv) => (
          <li key={`-${kv.key}`} class="removed">
            − {kv.key}={kv.value}
          </li>
        ))}
        {values.changed.map((kv) => (
          <li key={`~${kv.key}`} class="changed">
            ~ {kv.key}: {kv.before} → {kv.after}
          </li>
        ))}
      </ul>
    </div>
  );
}

function Image(props: { image: ImageDetails }) {
  const { image } = props;
  return (
    <section class="image" data-testid="image">
      <h3>Current image</h3>
      <dl class="facts">
        <dt>Digest</dt>
        <dd>
          <code>{image.digest}</code>
        </dd>
        <dt>Type</dt>
        <dd>{image.mediaType}</dd>
        <dt>Size</dt>
        <dd>{formatBytes(image.size)}</dd>
        {image.os && (
          <>
            <dt>Platform</dt>
            <dd>
              {image.os}/{image.architecture}
              {image.variant ? `/${image.variant}` : ''}
            </dd>
          </>
        )}
        {image.created && (
          <>
            <dt>Built</dt>
            <dd>{new Date(image.created).toLocaleString()}</dd>
          </>
        )}
        <dt>Metadata</dt>
        <dd>{image.metadataSource.toLowerCase()}</dd>
      </dl>
      {image.manifests.length > 0 && (
        <>
          <h4>Platforms</h4>
          <ul>
            {image.manifests.map((m) => (
              <li key={m.digest}>
                {m.os}/{m.architecture}
                {m.variant ? `/${m.variant}` : ''} <code>{m.digest.slice(0, 19)}</code>
              </li>
            ))}
          </ul>
        </>
      )}
      {image.layers.length > 0 && (
        <>
          <h4>Layers ({image.layers.length})</h4>
          <ol class="layers">
            {image.layers.map((layer, index) => (
              <li key={`${layer.digest}-${index}`}>
                <code>{layer.digest.slice(0, 19)}</code> {formatBytes(layer.size)}
              </li>
            ))}
          </ol>
        </>
      )}
      {image.config && (
        <>
          <h4>Config</h4>
          <dl class="facts">
            {image.config.entrypoint && (
              <>
                <dt>Entrypoint</dt>
                <dd>
                  <code>{JSON.stringify(image.config.entrypoint)}</code>
                </dd>
              </>
            )}
            {image.config.cmd && (
              <>
                <dt>Cmd</dt>
                <dd>
                  <code>{JSON.stringify(image.config.cmd)}</code>
                </dd>
              </>
            )}
            {image.config.user && (
              <>
                <dt>User</dt>
                <dd>{image.config.user}</dd>
              </>
            )}
            {image.config.env && (
              <>
                <dt>Env</dt>
                <dd>
                  {image.config.env.map((e) => (
                    <div key={e}>
                      <code>{e}</code>
                    </div>
                  ))}
                </dd>
              </>
            )}
            {image.config.labels.length > 0 && (
              <>
                <dt>Labels</dt>
                <dd>
                  {image.config.labels.map((l) => (
                    <div key={l.key}>
                      <code>
                        {l.key}={l.value}
                      </code>
                    </div>
                  ))}
                </dd>
              </>
            )}
          </dl>
        </>
      )}
    </section>
  );
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
