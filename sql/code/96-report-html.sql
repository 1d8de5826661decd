-- report_html(): one self-contained HTML page (inline CSS and SVG, no script,
-- no URL) with the health checks, charts of the samples and the reports'
-- tables; and the sparklines of report()'s header.  Every value read from the
-- database reaches the page through pgmaint._html().

-- Escapes text for HTML element content and double- or single-quoted attributes.
CREATE OR REPLACE FUNCTION pgmaint._html(value text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(
        replace(replace(replace(replace(replace(
            regexp_replace(value, E'[\\x01-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F]', '', 'g'),
            '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;'),
        '');
$$;

COMMENT ON FUNCTION pgmaint._html(text) IS
'Internal: text escaped for HTML content and attributes (& < > " and ''; control characters dropped; NULL gives an empty string). report_html() passes every value from the database through it.';

REVOKE ALL ON FUNCTION pgmaint._html(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._html(text) TO pg_monitor;

-- A number in at most about five characters: 12, 3.5, 12.3k, 4.1M.
CREATE OR REPLACE FUNCTION pgmaint._short_number(value double precision)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
        WHEN value IS NULL THEN ''
        WHEN abs(value) >= 1e9 THEN round((value / 1e9)::numeric, 1)::text || 'G'
        WHEN abs(value) >= 1e6 THEN round((value / 1e6)::numeric, 1)::text || 'M'
        WHEN abs(value) >= 1e4 THEN round((value / 1e3)::numeric, 1)::text || 'k'
        WHEN value = trunc(value) THEN trunc(value)::bigint::text
        WHEN abs(value) >= 100 THEN round(value::numeric)::text
        WHEN abs(value) >= 10 THEN round(value::numeric, 1)::text
        ELSE round(value::numeric, 2)::text
    END;
$$;

COMMENT ON FUNCTION pgmaint._short_number(double precision) IS
'Internal: a number shortened for chart axes and sparklines (k, M, G; at most two decimals).';

REVOKE ALL ON FUNCTION pgmaint._short_number(double precision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._short_number(double precision) TO pg_monitor;

-- The samples of the period, one row per sample with per-interval rates:
-- sample_history, and the ring for samples the history lacks.
CREATE OR REPLACE FUNCTION pgmaint._report_samples(
    since interval,
    OUT sampled_at timestamptz,
    OUT running integer,
    OUT waiting integer,
    OUT idle_in_transaction integer,
    OUT idle integer,
    OUT client_backends integer,
    OUT idle_in_transaction_age double precision,
    OUT cache_hit_pct double precision,
    OUT commits_per_sec double precision,
    OUT rollbacks_per_sec double precision,
    OUT dead_tuples bigint)
RETURNS SETOF record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    from_time timestamptz := pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) since;
    history   boolean := pg_catalog.has_table_privilege('pgmaint.sample_history', 'SELECT');
    ring      boolean := false;
    cols      text := 'sampled_at, active, idle, idle_in_transaction, idle_in_transaction_aborted, '
                      'waiting_on_lock, client_backends, longest_idle_in_transaction_age, '
                      'xact_commit, xact_rollback, blks_hit, blks_read, dead_tuples';
    src       text;
BEGIN
    -- the ring holds the samples of the worker's database only
    BEGIN
        SELECT s.running AND s.database OPERATOR(pg_catalog.=) pg_catalog.current_database()
          INTO ring FROM pgmaint.sampler_status() s;
        IF ring THEN
            PERFORM 1 FROM pgmaint.samples(from_time) LIMIT 1;
        END IF;
    EXCEPTION WHEN OTHERS THEN
        ring := false;
    END;
    ring := coalesce(ring, false);

    src := CASE WHEN history THEN
               format('SELECT %s FROM pgmaint.sample_history h WHERE h.sampled_at OPERATOR(pg_catalog.>=) $1', cols)
           ELSE format('SELECT %s FROM pgmaint.sample_history h WHERE false', cols) END;
    IF ring THEN
        src := src || format(' UNION ALL SELECT %s FROM pgmaint.samples($1) r', cols)
            || CASE WHEN history THEN
                   ' WHERE NOT EXISTS (SELECT 1 FROM pgmaint.sample_history h'
                   ' WHERE h.sampled_at OPERATOR(pg_catalog.=) r.sampled_at)'
               ELSE '' END;
    END IF;

    RETURN QUERY EXECUTE format($q$
        SELECT d.sampled_at,
               greatest(d.active - d.waiting_on_lock, 0),
               d.waiting_on_lock,
               d.idle_in_transaction + d.idle_in_transaction_aborted,
               d.idle,
               d.client_backends,
               pg_catalog.date_part('epoch', d.longest_idle_in_transaction_age),
               CASE WHEN d.dh >= 0 AND d.dr >= 0 AND d.dh + d.dr > 0
                    THEN 100.0 * d.dh / (d.dh + d.dr) END,
               CASE WHEN d.dt > 0 AND d.dc >= 0 THEN d.dc / d.dt END,
               CASE WHEN d.dt > 0 AND d.drb >= 0 THEN d.drb / d.dt END,
               d.dead_tuples
          FROM (SELECT s.*,
                       (s.blks_hit - pg_catalog.lag(s.blks_hit) OVER w)::float8 AS dh,
                       (s.blks_read - pg_catalog.lag(s.blks_read) OVER w)::float8 AS dr,
                       (s.xact_commit - pg_catalog.lag(s.xact_commit) OVER w)::float8 AS dc,
                       (s.xact_rollback - pg_catalog.lag(s.xact_rollback) OVER w)::float8 AS drb,
                       pg_catalog.date_part('epoch', s.sampled_at - pg_catalog.lag(s.sampled_at) OVER w) AS dt
                  FROM (%s) s
                WINDOW w AS (ORDER BY s.sampled_at)) d
         ORDER BY d.sampled_at $q$, src)
      USING from_time;
END
$$;

COMMENT ON FUNCTION pgmaint._report_samples(interval) IS
'Internal: the samples of the last "since" from sample_history (and the ring where the history lacks them), with connections by state and per-interval rates, for report_html() and report().';

REVOKE ALL ON FUNCTION pgmaint._report_samples(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._report_samples(interval) TO pg_monitor;

-- Where a chart's line breaks: the positions in xs (epoch seconds, in time
-- order) of the samples taken more than two and a half intervals after the one
-- before, measured against the intervals on either side (so that a change of
-- pgmaint.sample_interval is no break, and a stopped worker is).
CREATE OR REPLACE FUNCTION pgmaint._chart_breaks(xs double precision[])
RETURNS bigint[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT array_agg(t.n ORDER BY t.n)
      FROM (SELECT u.n, u.x - lag(u.x) OVER w AS dt,
                   lag(u.x) OVER w - lag(u.x, 2) OVER w AS before,
                   lead(u.x) OVER w - u.x AS after
              FROM unnest(xs) WITH ORDINALITY AS u(x, n)
            WINDOW w AS (ORDER BY u.n)) t
     WHERE t.dt > 2.5 * greatest(coalesce(t.before, t.after), coalesce(t.after, t.before));
$$;

COMMENT ON FUNCTION pgmaint._chart_breaks(double precision[]) IS
'Internal: positions in a time-ordered array of sample times (epoch seconds) where a chart line breaks: more than 2.5 times the longer of the intervals before and after.';

REVOKE ALL ON FUNCTION pgmaint._chart_breaks(double precision[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._chart_breaks(double precision[]) TO pg_monitor;

-- One chart as an HTML figure with an inline SVG: up to four series over
-- [t0, t1], min/max per time bucket (at most about 500 points a series),
-- a break before each sample of breaks (positions in xs, see _chart_breaks()),
-- the horizontal lines of thresholds and limits, and event marks.
CREATE OR REPLACE FUNCTION pgmaint._svg_chart(
    title text, unit text, t0 timestamptz, t1 timestamptz, breaks bigint[],
    names text[], xs double precision[],
    y1 double precision[], y2 double precision[] DEFAULT NULL,
    y3 double precision[] DEFAULT NULL, y4 double precision[] DEFAULT NULL,
    stacked boolean DEFAULT false, lines jsonb DEFAULT '[]', marks jsonb DEFAULT '[]',
    y_low double precision DEFAULT NULL, y_high double precision DEFAULT NULL,
    caption text DEFAULT '')
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    pl      CONSTANT double precision := 62;    -- plot area in the 1000 x 230 view box
    pr      CONSTANT double precision := 988;
    pt      CONSTANT double precision := 16;
    pb      CONSTANT double precision := 196;
    buckets CONSTANT integer := 250;
    x0      double precision := extract(epoch FROM t0);
    x1      double precision := extract(epoch FROM t1);
    nseries integer := coalesce(array_length(names, 1), 0);
    ds_s    integer[];
    ds_seg  bigint[];
    ds_x    double precision[];
    ds_y    double precision[];
    lo      double precision;
    hi      double precision;
    raw     double precision;
    mag     double precision;
    step    double precision;
    tstep   interval;
    tunit   text;
    tfmt    text;
    svg     text;
    body    text := '';
    legend  text := '';
    i       integer;
BEGIN
    IF x1 <= x0 THEN
        x1 := x0 + 1;
    END IF;

    -- downsample the series in one pass: per segment (between breaks) and time
    -- bucket, each series' lowest and highest point, where they are
    WITH m AS (
        SELECT coalesce(width_bucket(u.n, breaks), 0)::bigint AS seg,
               min(ARRAY[u.y1, u.x]) FILTER (WHERE u.y1 IS NOT NULL) AS lo1,
               max(ARRAY[u.y1, -u.x]) FILTER (WHERE u.y1 IS NOT NULL) AS hi1,
               min(ARRAY[u.y2, u.x]) FILTER (WHERE u.y2 IS NOT NULL) AS lo2,
               max(ARRAY[u.y2, -u.x]) FILTER (WHERE u.y2 IS NOT NULL) AS hi2,
               min(ARRAY[u.y3, u.x]) FILTER (WHERE u.y3 IS NOT NULL) AS lo3,
               max(ARRAY[u.y3, -u.x]) FILTER (WHERE u.y3 IS NOT NULL) AS hi3,
               min(ARRAY[u.y4, u.x]) FILTER (WHERE u.y4 IS NOT NULL) AS lo4,
               max(ARRAY[u.y4, -u.x]) FILTER (WHERE u.y4 IS NOT NULL) AS hi4
          FROM unnest(xs, y1, y2, y3, y4) WITH ORDINALITY AS u(x, y1, y2, y3, y4, n)
         WHERE u.x >= x0 AND u.x <= x1
         GROUP BY 1, floor((u.x - x0) / (x1 - x0) * buckets)
    )
    SELECT array_agg(s.k ORDER BY s.k, p.x), array_agg(m.seg ORDER BY s.k, p.x),
           array_agg(p.x ORDER BY s.k, p.x), array_agg(p.y ORDER BY s.k, p.x)
      INTO ds_s, ds_seg, ds_x, ds_y
      FROM m
     CROSS JOIN LATERAL (VALUES (1, m.lo1, m.hi1), (2, m.lo2, m.hi2),
                                (3, m.lo3, m.hi3), (4, m.lo4, m.hi4)) AS s(k, lo, hi)
     CROSS JOIN LATERAL (VALUES (1, s.lo[2], s.lo[1]), (2, -s.hi[2], s.hi[1])) AS p(o, x, y)
     WHERE s.k <= nseries AND s.lo IS NOT NULL AND (p.o = 1 OR s.lo[2] <> -s.hi[2]);

    -- the value axis: the data, the lines marked to be kept in view, and the given bounds
    SELECT least(min(v), coalesce(y_low, 0)), greatest(max(v), y_high)
      INTO lo, hi
      FROM (SELECT unnest(ds_y) AS v
            UNION ALL
            SELECT (l ->> 'y')::float8 FROM jsonb_array_elements(lines) l
             WHERE coalesce((l ->> 'in_view')::boolean, false)) t;
    IF y_low IS NOT NULL THEN
        lo := y_low;
    END IF;
    IF y_high IS NOT NULL THEN
        hi := y_high;
    END IF;
    lo := coalesce(lo, 0);
    hi := coalesce(hi, 1);
    IF hi <= lo THEN
        hi := lo + 1;
    END IF;
    raw := (hi - lo) / 4;
    mag := power(10, floor(log(raw)));
    step := CASE WHEN raw / mag <= 1 THEN 1 WHEN raw / mag <= 2 THEN 2
                 WHEN raw / mag <= 5 THEN 5 ELSE 10 END * mag;
    lo := floor(lo / step) * step;
    hi := ceil(hi / step) * step;

    -- grid and value labels
    SELECT string_agg(format('<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s"/>'
                             '<text class="ylab" x="%s" y="%s">%s</text>',
                             pl, yy, pr, yy, pl - 6, yy + 4, pgmaint._html(pgmaint._short_number(v))), '')
      INTO svg
      FROM (SELECT v, round((pb - (v - lo) / (hi - lo) * (pb - pt))::numeric, 1) AS yy
              FROM generate_series(0, round((hi - lo) / step)::int) n, LATERAL (SELECT lo + n * step AS v) q) t;
    body := body || coalesce(svg, '');

    -- time labels in the session's time zone
    SELECT st, un, fm INTO tstep, tunit, tfmt
      FROM (VALUES (interval '10 s', 'minute', 'HH24:MI:SS'), (interval '30 s', 'minute', 'HH24:MI:SS'),
                   (interval '1 min', 'hour', 'HH24:MI'), (interval '5 min', 'hour', 'HH24:MI'),
                   (interval '10 min', 'hour', 'HH24:MI'), (interval '15 min', 'hour', 'HH24:MI'),
                   (interval '30 min', 'hour', 'HH24:MI'), (interval '1 hour', 'day', 'HH24:MI'),
                   (interval '2 hours', 'day', 'HH24:MI'), (interval '3 hours', 'day', 'HH24:MI'),
                   (interval '6 hours', 'day', 'Dy HH24:MI'), (interval '12 hours', 'day', 'Dy HH24:MI'),
                   (interval '1 day', 'day', 'Dy DD Mon'), (interval '2 days', 'day', 'Dy DD Mon'),
                   (interval '7 days', 'day', 'DD Mon'), (interval '30 days', 'day', 'DD Mon')) AS s(st, un, fm)
     WHERE extract(epoch FROM st) * 8 >= x1 - x0
     ORDER BY st LIMIT 1;
    IF tstep IS NULL THEN
        tstep := interval '365 days';
        tunit := 'year';
        tfmt := 'YYYY-MM-DD';
    END IF;
    IF tfmt = 'HH24:MI' AND t1 - t0 > interval '20 hours' THEN
        tfmt := 'Dy HH24:MI';
    END IF;
    SELECT string_agg(format('<line class="tick" x1="%s" y1="%s" x2="%s" y2="%s"/>'
                             '<text class="xlab" x="%s" y="%s">%s</text>',
                             xx, pb, xx, pb + 4, xx, pb + 17, pgmaint._html(to_char(tt, tfmt))), '')
      INTO svg
      FROM (SELECT tt, round((pl + (extract(epoch FROM tt) - x0) / (x1 - x0) * (pr - pl))::numeric, 1) AS xx
              FROM generate_series(date_trunc(tunit, t0), t1, tstep) tt
             WHERE tt >= t0) t
     WHERE xx <= pr - 20 AND xx >= pl + 20;
    body := body || coalesce(svg, '');

    -- the series: filled areas from the bottom (stacked, the largest first) or lines
    SELECT string_agg(d, '' ORDER BY k DESC, seg) INTO svg
      FROM (SELECT k, seg,
                   format('<path class="series %s c%s" d="%s"/>',
                          CASE WHEN stacked THEN 'area' ELSE 'line' END, k,
                          CASE WHEN stacked THEN
                                   format('M%s %s ', (array_agg(px ORDER BY x))[1], round(pb::numeric, 1))
                                   || string_agg('L' || px || ' ' || py, ' ' ORDER BY x)
                                   || format(' L%s %s Z', (array_agg(px ORDER BY x DESC))[1], round(pb::numeric, 1))
                               ELSE 'M' || string_agg(px || ' ' || py, ' L' ORDER BY x)
                                    || CASE WHEN count(*) = 1 THEN ' h0.1' ELSE '' END
                          END) AS d
              FROM (SELECT u.k, u.seg, u.x,
                           round((pl + (u.x - x0) / (x1 - x0) * (pr - pl))::numeric, 1)::text AS px,
                           round((pb - (least(greatest(u.y, lo), hi) - lo) / (hi - lo) * (pb - pt))::numeric, 1)::text AS py
                      FROM unnest(ds_s, ds_seg, ds_x, ds_y) AS u(k, seg, x, y)) q
             GROUP BY k, seg) t;
    IF svg IS NULL THEN
        body := body || format('<text class="empty" x="%s" y="%s">no samples in this period</text>',
                               (pl + pr) / 2, (pt + pb) / 2);
    ELSE
        body := body || svg;
    END IF;

    -- thresholds and limits that fall inside the value axis
    SELECT string_agg(format('<line class="limit %s" x1="%s" y1="%s" x2="%s" y2="%s"/>'
                             '<text class="limlab %s" x="%s" y="%s">%s</text>',
                             cls, pl, yy, pr, yy, cls, CASE WHEN cls = 'slots' THEN pl + 6 ELSE pr - 4 END,
                             yy - 3, pgmaint._html(label)), '')
      INTO svg
      FROM (SELECT pgmaint._html(coalesce(l ->> 'class', 'limit')) AS cls, l ->> 'label' AS label,
                   round((pb - ((l ->> 'y')::float8 - lo) / (hi - lo) * (pb - pt))::numeric, 1) AS yy
              FROM jsonb_array_elements(lines) l
             WHERE (l ->> 'y')::float8 BETWEEN lo AND hi) t;
    body := body || coalesce(svg, '');

    -- event marks on the time axis
    SELECT string_agg(format('<g class="event %s"><line x1="%s" y1="%s" x2="%s" y2="%s"/>'
                             '<path d="M%s %s l-4 -7 h8 z"/><title>%s</title></g>',
                             cls, xx, pt, xx, pb, xx, pt, pgmaint._html(label)), '')
      INTO svg
      FROM (SELECT 'ev-' || pgmaint._html(coalesce(m ->> 'status', 'unknown')) AS cls, m ->> 'label' AS label,
                   round((pl + ((m ->> 'x')::float8 - x0) / (x1 - x0) * (pr - pl))::numeric, 1) AS xx
              FROM jsonb_array_elements(marks) m
             WHERE (m ->> 'x')::float8 BETWEEN x0 AND x1) t;
    body := body || coalesce(svg, '');

    FOR i IN 1 .. nseries LOOP
        legend := legend || format('<span class="key c%s"></span>%s ', i, pgmaint._html(names[i]));
    END LOOP;

    RETURN format('<figure class="chart"><h3>%s</h3>'
                  '<svg viewBox="0 0 1000 230" role="img" aria-label="%s">'
                  '<text class="unit" x="%s" y="10">%s</text>'
                  '<line class="axis" x1="%s" y1="%s" x2="%s" y2="%s"/>'
                  '<line class="axis" x1="%s" y1="%s" x2="%s" y2="%s"/>%s</svg>'
                  '<figcaption>%s%s</figcaption></figure>',
                  pgmaint._html(title), pgmaint._html(title), pl - 6, pgmaint._html(unit),
                  pl, pt, pl, pb, pl, pb, pr, pb, body,
                  CASE WHEN legend <> '' THEN '<span class="legend">' || legend || '</span>' ELSE '' END,
                  pgmaint._html(caption)) || E'\n';
END
$$;

COMMENT ON FUNCTION pgmaint._svg_chart(text, text, timestamptz, timestamptz, bigint[], text[], double precision[], double precision[], double precision[], double precision[], double precision[], boolean, jsonb, jsonb, double precision, double precision, text) IS
'Internal: one report_html() chart, an HTML figure with inline SVG: up to four series downsampled to the lowest and highest point of 250 time buckets, breaks at gaps, threshold lines and event marks; every label escaped.';

REVOKE ALL ON FUNCTION pgmaint._svg_chart(text, text, timestamptz, timestamptz, bigint[], text[], double precision[], double precision[], double precision[], double precision[], double precision[], boolean, jsonb, jsonb, double precision, double precision, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._svg_chart(text, text, timestamptz, timestamptz, bigint[], text[], double precision[], double precision[], double precision[], double precision[], double precision[], boolean, jsonb, jsonb, double precision, double precision, text) TO pg_monitor;

-- The rows of a query as an HTML table, or a line saying why there are none.
CREATE OR REPLACE FUNCTION pgmaint._html_table(query text, empty text DEFAULT 'none')
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    rows   json;
    cols   text[];
    result text;
BEGIN
    EXECUTE format('SELECT json_agg(q) FROM (%s) q', query) INTO rows;
    IF rows IS NULL THEN
        RETURN '<p class="none">' || pgmaint._html(empty) || '</p>' || E'\n';
    END IF;
    SELECT array_agg(k ORDER BY n) INTO cols
      FROM json_object_keys(rows -> 0) WITH ORDINALITY AS t(k, n);
    SELECT '<table><thead><tr>'
           || string_agg('<th>' || pgmaint._html(c) || '</th>', '' ORDER BY n)
           || '</tr></thead><tbody>' INTO result
      FROM unnest(cols) WITH ORDINALITY AS u(c, n);
    SELECT result || string_agg(line, E'\n' ORDER BY rn) || '</tbody></table>' INTO result
      FROM (SELECT r.rn, '<tr>' || string_agg(
                       CASE WHEN u.c IN ('status', 'query')
                            THEN format('<td class="%s">%s</td>',
                                        CASE WHEN u.c = 'query' THEN 'query'
                                             ELSE 'st-' || pgmaint._html(r.e ->> u.c) END,
                                        pgmaint._html(r.e ->> u.c))
                            WHEN length(r.e ->> u.c) > 30
                            THEN '<td class="long">' || pgmaint._html(r.e ->> u.c) || '</td>'
                            ELSE '<td>' || pgmaint._html(r.e ->> u.c) || '</td>' END,
                       '' ORDER BY u.n) || '</tr>' AS line
              FROM json_array_elements(rows) WITH ORDINALITY AS r(e, rn),
                   unnest(cols) WITH ORDINALITY AS u(c, n)
             GROUP BY r.rn) t;
    RETURN result || E'\n';
EXCEPTION WHEN OTHERS THEN
    RETURN '<p class="none">unavailable: ' || pgmaint._html(SQLERRM) || '</p>' || E'\n';
END
$$;

COMMENT ON FUNCTION pgmaint._html_table(text, text) IS
'Internal: the rows of a query as an escaped HTML table for report_html(); the text "empty" when there are none, and why when the query fails.';

REVOKE ALL ON FUNCTION pgmaint._html_table(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._html_table(text, text) TO pg_monitor;

CREATE OR REPLACE FUNCTION pgmaint.report_html(since interval DEFAULT '24 hours')
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t1        timestamptz := clock_timestamp();
    t0        timestamptz;
    health    jsonb;
    status    text;
    usable    integer := pgmaint._usable_connections();
    monitor   boolean := pg_has_role(current_user, 'pg_monitor', 'USAGE');
    n         integer;
    breaks    bigint[];
    xs        double precision[];
    a_run     double precision[];
    a_wait    double precision[];
    a_iit     double precision[];
    a_idle    double precision[];
    a_age     double precision[];
    a_hit     double precision[];
    a_commit  double precision[];
    a_rollbk  double precision[];
    a_dead    double precision[];
    th        record;
    lines     jsonb;
    marks     jsonb := '[]';
    ev_col    name;
    ev_query  text;
    lag_col   record;
    lag_xs    double precision[];
    lag_ys    double precision[];
    hit_low   double precision;
    charts    text := '';
    attention text;
    page      text;
BEGIN
    IF since IS NULL OR since <= interval '0' THEN
        RAISE EXCEPTION 'since must be a positive interval'
            USING ERRCODE = '22023',
                  HINT = 'Give the period to chart, for example interval ''24 hours''.';
    END IF;
    t0 := t1 - since;

    BEGIN
        health := pgmaint.health();
    EXCEPTION WHEN OTHERS THEN
        health := jsonb_build_object('status', 'unknown', 'checks', '[]'::jsonb, 'error', SQLERRM);
    END;
    status := coalesce(health ->> 'status', 'unknown');

    -- the samples, as parallel arrays (_report_samples() returns them in time order)
    SELECT count(*),
           array_agg(extract(epoch FROM s.sampled_at)::float8),
           array_agg(s.running::float8),
           array_agg((s.running + s.waiting)::float8),
           array_agg((s.running + s.waiting + s.idle_in_transaction)::float8),
           array_agg((s.running + s.waiting + s.idle_in_transaction + s.idle)::float8),
           array_agg(coalesce(s.idle_in_transaction_age, 0)),
           array_agg(s.cache_hit_pct),
           array_agg(s.commits_per_sec),
           array_agg(s.rollbacks_per_sec),
           array_agg(s.dead_tuples::float8)
      INTO n, xs, a_run, a_wait, a_iit, a_idle, a_age, a_hit, a_commit, a_rollbk, a_dead
      FROM (SELECT * FROM pgmaint._report_samples(since) ORDER BY sampled_at) s;

    breaks := pgmaint._chart_breaks(xs);

    -- health events, once the worker records them (read whatever shape the table has)
    IF to_regclass('pgmaint.health_events') IS NOT NULL
       AND has_table_privilege('pgmaint.health_events', 'SELECT') THEN
        SELECT a.attname INTO ev_col
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = 'pgmaint.health_events'::regclass AND a.attnum > 0 AND NOT a.attisdropped
           AND a.atttypid = 'timestamptz'::regtype
         ORDER BY a.attnum LIMIT 1;
        IF ev_col IS NOT NULL THEN
            ev_query := format('SELECT * FROM pgmaint.health_events e WHERE e.%I >= %L ORDER BY e.%I DESC LIMIT 200',
                               ev_col, t0, ev_col);
            BEGIN
                EXECUTE format($q$
                    SELECT coalesce(jsonb_agg(jsonb_build_object(
                               'x', extract(epoch FROM (j ->> %L)::timestamptz),
                               'status', coalesce(j ->> 'status', j ->> 'new_status', j ->> 'to_status'),
                               'label', concat_ws(' ', to_char((j ->> %L)::timestamptz, 'YYYY-MM-DD HH24:MI:SS'),
                                                  coalesce(j ->> 'check_name', j ->> 'check'),
                                                  coalesce(j ->> 'status', j ->> 'new_status', j ->> 'to_status'),
                                                  j ->> 'message'))), '[]')
                      FROM (SELECT to_jsonb(e) AS j FROM (%s) e) t $q$, ev_col, ev_col, ev_query)
                  INTO marks;
            EXCEPTION WHEN OTHERS THEN
                marks := '[]';
                ev_query := NULL;
            END;
        END IF;
    END IF;

    -- connections by state against the usable slots
    SELECT warning, critical INTO th FROM pgmaint.thresholds WHERE check_name = 'connections' AND enabled;
    lines := jsonb_build_array(jsonb_build_object('y', usable, 'label', format('usable slots %s', usable),
                                                  'class', 'slots', 'in_view', true));
    IF th.warning IS NOT NULL THEN
        lines := lines || jsonb_build_object('y', usable * th.warning / 100, 'class', 'warn',
                                             'label', format('warning %s%%', th.warning));
    END IF;
    IF th.critical IS NOT NULL THEN
        lines := lines || jsonb_build_object('y', usable * th.critical / 100, 'class', 'crit',
                                             'label', format('critical %s%%', th.critical));
    END IF;
    charts := charts || pgmaint._svg_chart(
        title => 'Connections by state', unit => 'sessions', t0 => t0, t1 => t1, breaks => breaks,
        names => ARRAY['active', 'waiting on a lock', 'idle in transaction', 'idle'], xs => xs,
        y1 => a_run, y2 => a_wait, y3 => a_iit, y4 => a_idle, stacked => true, lines => lines, marks => marks,
        caption => format('Client sessions stacked by state against the %s usable slots (max_connections - superuser_reserved_connections); warning and critical are the "connections" thresholds.', usable));

    -- the oldest session idle in a transaction
    SELECT warning, critical INTO th FROM pgmaint.thresholds WHERE check_name = 'idle_in_transaction' AND enabled;
    lines := '[]';
    IF th.warning IS NOT NULL THEN
        lines := lines || jsonb_build_object('y', th.warning, 'class', 'warn', 'in_view', true,
                                             'label', format('warning %s s', th.warning));
    END IF;
    IF th.critical IS NOT NULL THEN
        lines := lines || jsonb_build_object('y', th.critical, 'class', 'crit',
                                             'label', format('critical %s s', th.critical));
    END IF;
    charts := charts || pgmaint._svg_chart(
        title => 'Oldest idle-in-transaction age', unit => 'seconds', t0 => t0, t1 => t1, breaks => breaks,
        names => ARRAY['oldest session idle in a transaction'], xs => xs, y1 => a_age, lines => lines, marks => marks,
        caption => 'How long the oldest session has been idle inside an open transaction (a leaked connection holds locks and blocks vacuum); 0 when there is none.');

    -- cache hit ratio per sample interval
    SELECT warning, critical INTO th FROM pgmaint.thresholds WHERE check_name = 'cache_hit' AND enabled;
    lines := '[]';
    IF th.warning IS NOT NULL THEN
        lines := lines || jsonb_build_object('y', th.warning, 'class', 'warn', 'label', format('warning %s%%', th.warning));
    END IF;
    IF th.critical IS NOT NULL THEN
        lines := lines || jsonb_build_object('y', th.critical, 'class', 'crit', 'label', format('critical %s%%', th.critical));
    END IF;
    SELECT greatest(0, least(min(v), coalesce(th.critical::float8, 100)) - 2) INTO hit_low FROM unnest(a_hit) v;
    charts := charts || pgmaint._svg_chart(
        title => 'Cache hit ratio', unit => '%', t0 => t0, t1 => t1, breaks => breaks,
        names => ARRAY['buffer cache hits'], xs => xs, y1 => a_hit, lines => lines, marks => marks,
        y_low => coalesce(hit_low, 0), y_high => 100,
        caption => 'Share of block reads of this database served from shared buffers in each sample interval (no point where it read nothing).');

    charts := charts || pgmaint._svg_chart(
        title => 'Commits and rollbacks', unit => 'per second', t0 => t0, t1 => t1, breaks => breaks,
        names => ARRAY['commits', 'rollbacks'], xs => xs, y1 => a_commit, y2 => a_rollbk, marks => marks,
        caption => 'Transactions of this database committed and rolled back per second, per sample interval.');

    charts := charts || pgmaint._svg_chart(
        title => 'Dead tuples', unit => 'rows', t0 => t0, t1 => t1, breaks => breaks,
        names => ARRAY['dead tuples in all tables'], xs => xs, y1 => a_dead, marks => marks,
        caption => 'Dead row versions waiting for vacuum across the tables of this database; the per-table "dead_tuples" check is in the tables below.');

    -- replication lag, where the history records it and there were standbys
    FOR lag_col IN
        SELECT a.attname, a.atttypid = 'interval'::regtype AS is_interval
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = 'pgmaint.sample_history'::regclass AND a.attnum > 0 AND NOT a.attisdropped
           AND (a.attname LIKE 'replay\_lag%' OR a.attname LIKE 'replication\_lag%')
           AND a.atttypid IN ('interval'::regtype, 'float8'::regtype, 'numeric'::regtype,
                              'int4'::regtype, 'int8'::regtype, 'float4'::regtype)
           AND has_table_privilege('pgmaint.sample_history', 'SELECT')
         ORDER BY a.attnum
    LOOP
        EXECUTE format('SELECT array_agg(extract(epoch FROM sampled_at)::float8 ORDER BY sampled_at), '
                       'array_agg(%s ORDER BY sampled_at) FROM pgmaint.sample_history '
                       'WHERE sampled_at >= $1 AND %I IS NOT NULL',
                       CASE WHEN lag_col.is_interval THEN format('extract(epoch FROM %I)::float8', lag_col.attname)
                            ELSE format('%I::float8', lag_col.attname) END, lag_col.attname)
          INTO lag_xs, lag_ys USING t0;
        IF lag_xs IS NOT NULL THEN
            SELECT warning, critical INTO th FROM pgmaint.thresholds
             WHERE check_name = CASE WHEN lag_col.attname LIKE '%bytes%' THEN 'replication_lag_bytes'
                                     ELSE 'replication_lag' END AND enabled;
            lines := '[]';
            IF th.warning IS NOT NULL THEN
                lines := lines || jsonb_build_object('y', th.warning, 'class', 'warn', 'label', format('warning %s', th.warning));
            END IF;
            IF th.critical IS NOT NULL THEN
                lines := lines || jsonb_build_object('y', th.critical, 'class', 'crit', 'label', format('critical %s', th.critical));
            END IF;
            charts := charts || pgmaint._svg_chart(
                title => 'Replication lag (' || replace(lag_col.attname, '_', ' ') || ')',
                unit => CASE WHEN lag_col.is_interval THEN 'seconds' WHEN lag_col.attname LIKE '%bytes%' THEN 'bytes'
                             ELSE '' END,
                t0 => t0, t1 => t1, breaks => pgmaint._chart_breaks(lag_xs), names => ARRAY[lag_col.attname::text], xs => lag_xs, y1 => lag_ys,
                lines => lines, marks => marks,
                caption => 'How far the standbys are behind, as the worker sampled it.');
        END IF;
    END LOOP;

    -- the checks that need attention, worst first
    SELECT string_agg(format('<li class="st-%s"><b>%s</b> <span class="pill st-%s">%s</span> %s%s</li>',
                             pgmaint._html(c ->> 'status'), pgmaint._html(c ->> 'check'),
                             pgmaint._html(c ->> 'status'), pgmaint._html(c ->> 'status'),
                             pgmaint._html(c ->> 'message'),
                             coalesce('<br><span class="hint">' || pgmaint._html(c ->> 'hint') || '</span>', '')),
                      E'\n' ORDER BY pgmaint._status_order(c ->> 'status') DESC, c ->> 'check')
      INTO attention
      FROM jsonb_array_elements(health -> 'checks') c
     WHERE c ->> 'status' <> 'ok';

    page := '<!DOCTYPE html>' || E'\n'
        || '<html lang="en"><head><meta charset="utf-8">' || E'\n'
        || '<meta name="viewport" content="width=device-width, initial-scale=1">' || E'\n'
        || '<meta name="color-scheme" content="light dark">' || E'\n'
        || format('<title>pgmaint report: %s, %s</title>', pgmaint._html(current_database()),
                  pgmaint._html(upper(status))) || E'\n'
        || '<style>' || E'\n'
        || $css$
:root { --bg: #ffffff; --fg: #1d2330; --muted: #5d6575; --line: #d5d9e0; --panel: #f5f6f8;
  --c1: #2f6fdd; --c2: #e8860c; --c3: #b03ac4; --c4: #9aa3b2;
  --ok: #1e8e3e; --warning: #c77700; --critical: #c5221f; --unknown: #6b7280; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #14171c; --fg: #e4e7ec; --muted: #9aa3b2; --line: #343a45; --panel: #1d2128;
    --c1: #6d9eff; --c2: #f5a23c; --c3: #d37ce0; --c4: #5f6877;
    --ok: #4cc26b; --warning: #f0a531; --critical: #ff6b60; --unknown: #9aa3b2; }
}
* { box-sizing: border-box; }
html { background: var(--bg); color: var(--fg); }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  max-width: 1060px; margin: 0 auto; padding: 16px 20px; }
h1 { font-size: 22px; margin: 0 0 6px; }
h2 { font-size: 17px; margin: 26px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 14px; margin: 0 0 4px; }
.meta { color: var(--muted); margin: 0 0 12px; }
.meta b { color: var(--fg); font-weight: 600; }
.banner { padding: 12px 16px; border-radius: 6px; color: #fff; font-size: 18px; font-weight: 600; margin: 8px 0 12px; }
.banner.st-ok { background: var(--ok); } .banner.st-warning { background: var(--warning); }
.banner.st-critical { background: var(--critical); } .banner.st-unknown { background: var(--unknown); }
.note { background: var(--panel); border-left: 4px solid var(--warning); padding: 8px 12px; margin: 8px 0; }
ul.attention { padding-left: 20px; } ul.attention li { margin: 4px 0; }
.hint { color: var(--muted); }
.pill { display: inline-block; padding: 0 7px; border-radius: 9px; color: #fff; font-size: 12px; }
.pill.st-ok { background: var(--ok); } .pill.st-warning { background: var(--warning); }
.pill.st-critical { background: var(--critical); } .pill.st-unknown { background: var(--unknown); }
td.st-ok { color: var(--ok); } td.st-warning, td.st-fail { color: var(--warning); font-weight: 600; }
td.st-critical { color: var(--critical); font-weight: 600; } td.st-unknown { color: var(--unknown); }
td.st-pass { color: var(--ok); }
figure.chart { margin: 0 0 18px; padding: 10px 12px 8px; background: var(--panel); border-radius: 6px;
  break-inside: avoid; page-break-inside: avoid; }
figure.chart svg { display: block; width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 12.5px; }
.legend { display: block; color: var(--fg); margin-bottom: 2px; }
.key { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin: 0 4px 0 8px; }
.key.c1 { background: var(--c1); } .key.c2 { background: var(--c2); }
.key.c3 { background: var(--c3); } .key.c4 { background: var(--c4); }
svg text { fill: var(--muted); font-size: 12px; font-family: inherit; }
svg .ylab { text-anchor: end; } svg .xlab { text-anchor: middle; } svg .limlab { text-anchor: end; font-size: 11px; }
svg .empty { text-anchor: middle; font-size: 14px; }
svg .axis { stroke: var(--muted); stroke-width: 1; } svg .tick { stroke: var(--muted); }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .line { fill: none; stroke-width: 1.6; stroke-linejoin: round; stroke-linecap: round; }
svg .area { stroke: none; }
svg .line.c1 { stroke: var(--c1); } svg .line.c2 { stroke: var(--c2); }
svg .line.c3 { stroke: var(--c3); } svg .line.c4 { stroke: var(--c4); }
svg .area.c1 { fill: var(--c1); } svg .area.c2 { fill: var(--c2); }
svg .area.c3 { fill: var(--c3); } svg .area.c4 { fill: var(--c4); }
svg .limit { stroke-width: 1.2; stroke-dasharray: 6 4; }
svg .limit.slots { stroke: var(--fg); } svg .limlab.slots { fill: var(--fg); text-anchor: start; }
svg .limit.warn { stroke: var(--warning); } svg .limlab.warn { fill: var(--warning); }
svg .limit.crit { stroke: var(--critical); } svg .limlab.crit { fill: var(--critical); }
svg .event line { stroke-width: 1; stroke-dasharray: 2 3; }
svg .event.ev-ok line { stroke: var(--ok); } svg .event.ev-ok path { fill: var(--ok); }
svg .event.ev-warning line { stroke: var(--warning); } svg .event.ev-warning path { fill: var(--warning); }
svg .event.ev-critical line { stroke: var(--critical); } svg .event.ev-critical path { fill: var(--critical); }
svg .event.ev-unknown line { stroke: var(--unknown); } svg .event.ev-unknown path { fill: var(--unknown); }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 4px 0 8px; }
th, td { text-align: left; vertical-align: top; padding: 3px 8px; border-bottom: 1px solid var(--line); }
td.long, td.query { overflow-wrap: anywhere; }
th { background: var(--panel); font-weight: 600; }
td.query { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; white-space: pre-wrap; }
p.none { color: var(--muted); margin: 4px 0; }
footer { color: var(--muted); font-size: 12px; margin-top: 28px; }
@page { size: A4; margin: 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 12px; }
  h2 { break-after: avoid; page-break-after: avoid; }
  tr { break-inside: avoid; page-break-inside: avoid; }
}
$css$
        || '</style></head><body>' || E'\n'
        || '<h1>pgmaint health report</h1>' || E'\n'
        || format('<p class="meta">server <b>%s</b> · database <b>%s</b> · PostgreSQL <b>%s</b> · pgmaint <b>%s</b> · role <b>%s</b> · checked at <b>%s</b> · period <b>%s</b> to <b>%s</b></p>',
                  pgmaint._html(coalesce(nullif(current_setting('cluster_name'), ''),
                                         host(inet_server_addr()), 'local socket')
                                || ' port ' || current_setting('port')),
                  pgmaint._html(current_database()), pgmaint._html(current_setting('server_version')),
                  pgmaint._html((SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pgmaint')),
                  pgmaint._html(current_user),
                  pgmaint._html(to_char(t1, 'YYYY-MM-DD HH24:MI:SS TZ')),
                  pgmaint._html(to_char(t0, 'YYYY-MM-DD HH24:MI:SS')),
                  pgmaint._html(to_char(t1, 'YYYY-MM-DD HH24:MI:SS TZ')))
        || E'\n'
        || format('<div class="banner st-%s">Status: %s</div>', pgmaint._html(status),
                  pgmaint._html(upper(status)
                                || coalesce(' · ' || (SELECT string_agg(format('%s %s', cnt, s), ', '
                                                                        ORDER BY pgmaint._status_order(s) DESC)
                                                        FROM (SELECT c ->> 'status' AS s, count(*) AS cnt
                                                                FROM jsonb_array_elements(health -> 'checks') c
                                                               GROUP BY 1) t), '')))
        || E'\n'
        || CASE WHEN health ? 'error' THEN
               '<p class="note">The health checks could not run: ' || pgmaint._html(health ->> 'error') || '</p>' || E'\n'
           ELSE '' END
        || CASE WHEN NOT monitor THEN
               format('<p class="note">Role %s is not a member of pg_monitor: checks it cannot see are unknown and some sections are unavailable. GRANT pg_monitor TO %s; shows them all.</p>',
                      pgmaint._html(current_user), pgmaint._html(quote_ident(current_user))) || E'\n'
           ELSE '' END
        || CASE WHEN n = 0 THEN
               '<p class="note">The worker has not sampled yet: no samples in this period, so the charts are empty. '
               || 'Add pgmaint to shared_preload_libraries, set pgmaint.database to this database and restart; '
               || 'the charts fill from the first sample on.</p>' || E'\n'
           ELSE '' END
        || '<h2>Needs attention</h2>' || E'\n'
        || coalesce('<ul class="attention">' || attention || '</ul>', '<p class="none">Every check is ok.</p>') || E'\n'
        || format('<h2>Charts</h2><p class="meta">%s samples from %s to %s (%s); times in %s; breaks in a line are periods without samples.</p>',
                  n, pgmaint._html(to_char(t0, 'YYYY-MM-DD HH24:MI')), pgmaint._html(to_char(t1, 'YYYY-MM-DD HH24:MI')),
                  pgmaint._html(since::text), pgmaint._html(current_setting('TimeZone'))) || E'\n'
        || charts
        || CASE WHEN ev_query IS NOT NULL THEN
               '<h2>Health events</h2>' || E'\n'
               || pgmaint._html_table(ev_query, 'No health event in this period.')
           ELSE '' END
        || '<h2>All checks</h2>' || E'\n'
        || pgmaint._html_table(format($q$
               SELECT c ->> 'check' AS "check", c ->> 'status' AS status, c ->> 'value' AS value,
                      c ->> 'warning' AS warning, c ->> 'critical' AS critical, c ->> 'message' AS message
                 FROM jsonb_array_elements(%L::jsonb) c
                ORDER BY pgmaint._status_order(c ->> 'status') DESC, c ->> 'check' $q$, health -> 'checks'),
               'No checks could run.')
        || format('<h2>Sessions idle in a transaction</h2>') || E'\n'
        || pgmaint._html_table(format($q$
               SELECT pid, usename AS "user", application_name AS application, datname AS database,
                      date_trunc('second', idle_for)::text AS idle_for, blocking, query
                 FROM pgmaint.connection_leaks(make_interval(secs => %s))
                ORDER BY idle_for DESC LIMIT 20 $q$,
               coalesce((SELECT warning FROM pgmaint.thresholds WHERE check_name = 'idle_in_transaction'), 60)),
               'No session is idle in a transaction past the idle_in_transaction warning threshold.')
        || '<h2>Tables with the most dead tuples</h2>' || E'\n'
        || pgmaint._html_table($q$
               SELECT format('%I.%I', schema_name, table_name) AS "table", live_tuples AS live,
                      dead_tuples AS dead, round(100 * dead_ratio::numeric, 1) AS "dead %",
                      autovacuum_due AS vacuum_due, falling_behind AS behind,
                      to_char(last_autovacuum, 'YYYY-MM-DD HH24:MI') AS last_autovacuum
                 FROM pgmaint._vacuum_stats_dead()
                ORDER BY dead_tuples DESC, 1 LIMIT 10 $q$, 'No table has dead tuples.')
        || '<h2>Largest tables</h2>' || E'\n'
        || pgmaint._html_table($q$
               SELECT format('%I.%I', schema_name, table_name) AS "table",
                      pg_size_pretty(total_bytes) AS total, pg_size_pretty(heap_bytes) AS heap,
                      pg_size_pretty(index_bytes) AS indexes, pg_size_pretty(toast_bytes) AS toast,
                      row_estimate AS rows
                 FROM pgmaint._largest_tables(10) $q$, 'No tables.')
        || '<h2>Index advice</h2>' || E'\n'
        || pgmaint._html_table($q$
               SELECT kind, coalesce(index_name::text, table_name::text) AS object, detail, suggestion
                 FROM pgmaint.index_advice() $q$, 'No index advice.')
        || '<h2>Expensive queries</h2>' || E'\n'
        || CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_stat_statements') THEN
               pgmaint._html_table($q$
                   SELECT role, calls, round(total_exec_time::numeric, 1) AS total_ms,
                          round(mean_exec_time::numeric, 2) AS mean_ms, round(share_pct::numeric, 1) AS "share %",
                          left(query, 500) AS query
                     FROM pgmaint.expensive_queries(10) $q$, 'No statements recorded yet.')
           ELSE '<p class="none">pg_stat_statements is not installed in this database (CREATE EXTENSION pg_stat_statements; with it in shared_preload_libraries).</p>' || E'\n'
           END
        || '<h2>Settings advice</h2>' || E'\n'
        || pgmaint._html_table($q$
               SELECT name, current, recommended, status, reason, fix
                 FROM pgmaint.settings_advice()
                WHERE status <> 'ok' $q$, 'Every setting is as recommended.')
        || '<h2>Checklist</h2>' || E'\n'
        -- graded by the checks above rather than by running them again
        || pgmaint._html_table(format('SELECT item, status, evidence, fix FROM pgmaint._checklist(%L::jsonb)',
                                      CASE WHEN NOT health ? 'error' THEN health -> 'checks' END),
                               'The checklist could not run.')
        || format('<footer>Made by pgmaint.report_html(%s) in %s ms. Self-contained: no scripts, no external resources.</footer>',
                  pgmaint._html(quote_literal(since::text)),
                  round((extract(epoch FROM clock_timestamp() - t1) * 1000)::numeric))
        || E'\n</body></html>\n';
    RETURN page;
END
$$;

COMMENT ON FUNCTION pgmaint.report_html(interval) IS
'One self-contained HTML page (inline CSS and SVG, no script, no URL): status, the checks that need attention, charts of the samples of the last "since" (connections, idle-in-transaction age, cache hit, commits, dead tuples, replication lag and health events where recorded) and the report''s tables. psql -XAtq -c ''SELECT pgmaint.report_html()'' > health.html';

REVOKE ALL ON FUNCTION pgmaint.report_html(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint.report_html(interval) TO pg_monitor;

-- A sparkline of values in Unicode blocks, low to high; a NULL is a space.
CREATE OR REPLACE FUNCTION pgmaint._sparkline(vals double precision[])
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH r AS (SELECT min(v) AS lo, max(v) AS hi FROM unnest(vals) v)
    SELECT string_agg(CASE WHEN u.v IS NULL THEN ' '
                           WHEN r.hi = r.lo THEN '▁'
                           ELSE substr('▁▂▃▄▅▆▇█', 1 + least(7, floor(8 * (u.v - r.lo) / (r.hi - r.lo))::int), 1)
                      END, '' ORDER BY u.n)
      FROM unnest(vals) WITH ORDINALITY AS u(v, n), r;
$$;

COMMENT ON FUNCTION pgmaint._sparkline(double precision[]) IS
'Internal: values as a line of Unicode block characters (▁ lowest to █ highest), a space for NULL.';

REVOKE ALL ON FUNCTION pgmaint._sparkline(double precision[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._sparkline(double precision[]) TO pg_monitor;

-- report()'s sparklines: the key series over the last hour, 48 columns of 75 seconds.
CREATE OR REPLACE FUNCTION pgmaint._report_sparklines()
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t0     double precision := extract(epoch FROM clock_timestamp()) - 3600;
    cols   CONSTANT integer := 48;
    result text;
BEGIN
    WITH s AS (
        SELECT floor((extract(epoch FROM s.sampled_at) - t0) / (3600.0 / cols))::int AS col, s.*
          FROM pgmaint._report_samples(interval '1 hour') s
    ), c AS (
        SELECT g.col, max(s.client_backends)::float8 AS conn, min(s.cache_hit_pct) AS hit,
               max(s.commits_per_sec) AS commits,
               max(CASE WHEN s.sampled_at IS NOT NULL THEN coalesce(s.idle_in_transaction_age, 0) END) AS age
          FROM generate_series(0, cols - 1) g(col)
          LEFT JOIN s ON s.col = g.col
         GROUP BY g.col
    ), series AS (
        SELECT 1 AS n, 'connections' AS label, array_agg(conn ORDER BY col) AS vals FROM c
        UNION ALL SELECT 2, 'cache hit %', array_agg(hit ORDER BY col) FROM c
        UNION ALL SELECT 3, 'commits/s', array_agg(commits ORDER BY col) FROM c
        UNION ALL SELECT 4, 'idle in xact (s)', array_agg(age ORDER BY col) FROM c
    )
    SELECT string_agg(format('  %s %s  min %s  max %s', rpad(label, 16), pgmaint._sparkline(vals),
                             pgmaint._short_number((SELECT min(v) FROM unnest(vals) v)),
                             pgmaint._short_number((SELECT max(v) FROM unnest(vals) v))),
                      E'\n' ORDER BY n)
      INTO result
      FROM series
     WHERE EXISTS (SELECT 1 FROM unnest(vals) v WHERE v IS NOT NULL);
    IF result IS NULL THEN
        RETURN 'Last hour: no samples (the worker has not sampled yet, or samples another database)' || E'\n';
    END IF;
    RETURN 'Last hour (oldest left, one column per 75 s):' || E'\n' || result || E'\n';
END
$$;

COMMENT ON FUNCTION pgmaint._report_sparklines() IS
'Internal: report()''s header lines, one sparkline per key series over the last hour (connections, cache hit, commits/s, idle-in-transaction age) with min and max, within 96 columns.';

REVOKE ALL ON FUNCTION pgmaint._report_sparklines() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgmaint._report_sparklines() TO pg_monitor;
