// Bulk seeding in single SQL statements (generate_series): 20,000 history rows in about a second,
// where row-by-row inserts through drizzle (test/support/seed.ts) would take minutes.
import type postgres from 'postgres';

export interface GraphShape {
  namespace: string;
  streams: number;
  tagsPerStream: number;
  historyPerTag: number;
  /** Distinct images the history items cycle through. */
  images: number;
}

export const digestSql = (seed: string) => `'sha256:' || encode(sha256((${seed})::bytea), 'hex')`;

/** Streams `s0000…`, tags `t00…`, history seq 1..n (n is item 0), images with 3 layers each. */
export async function seedGraph(sql: postgres.Sql, shape: GraphShape): Promise<void> {
  const { namespace, streams, tagsPerStream, historyPerTag, images } = shape;
  await sql`insert into namespaces (name) values (${namespace}) on conflict do nothing`;
  await sql.unsafe(`
    insert into images (digest, media_type, docker_image_reference, architecture, os, created,
                        author, size, config)
    select ${digestSql(`'img-' || i`)}, 'application/vnd.oci.image.manifest.v1+json',
           'quay.io/bench/app@' || ${digestSql(`'img-' || i`)}, 'amd64', 'linux',
           timestamptz '2024-01-01' + i * interval '1 hour', 'bench', 30000000 + i,
           jsonb_build_object('cmd', jsonb_build_array('/app'), 'env',
             jsonb_build_array('PATH=/usr/bin', 'N=' || i), 'labels', jsonb_build_object('n', i::text))
    from generate_series(1, ${images}) i`);
  await sql.unsafe(`
    insert into image_layers (image_digest, position, digest, size, media_type)
    select ${digestSql(`'img-' || i`)}, p, ${digestSql(`'layer-' || i || '-' || p`)}, 10000000 + p,
           'application/vnd.oci.image.layer.v1.tar+gzip'
    from generate_series(1, ${images}) i, generate_series(0, 2) p`);
  await sql.unsafe(`
    insert into image_streams (namespace, name, labels)
    select '${namespace}', 's' || lpad(s::text, 4, '0'), jsonb_build_object('app', 'bench')
    from generate_series(0, ${streams - 1}) s`);
  await sql.unsafe(`
    insert into tags (stream_id, name, from_kind, from_name, spec_generation)
    select st.id, 't' || lpad(t::text, 2, '0'), 'DockerImage', 'quay.io/bench/app:' || t, 1
    from image_streams st, generate_series(0, ${tagsPerStream - 1}) t
    where st.namespace = '${namespace}'`);
  await sql.unsafe(`
    insert into tag_history (tag_id, seq, created, docker_image_reference, image_digest, generation)
    select tg.id, h, timestamptz '2024-03-01' + h * interval '1 day',
           'quay.io/bench/app@' || ${digestSql(`'img-' || (1 + (tg.id * 7 + h) % ${images})`)},
           ${digestSql(`'img-' || (1 + (tg.id * 7 + h) % ${images})`)}, 1
    from tags tg join image_streams st on st.id = tg.stream_id,
         generate_series(1, ${historyPerTag}) h
    where st.namespace = '${namespace}'`);
  await sql`analyze`;
}
