-- test/suites/upgrade_describe.sql: every object the pgmaint extension owns,
-- described as one JSON object {"<kind> <name> :: <aspect>": "<text>"}, so
-- that two databases (an upgraded one and a fresh install) can be compared
-- by test/suites/upgrade_compare.py.  pg_dump --schema-only leaves extension
-- members out, hence the catalogs.  Names only, never OIDs; ACLs and
-- extconfig entries sorted, so that the order of GRANTs does not matter.
WITH ext AS (
    SELECT oid, extnamespace FROM pg_catalog.pg_extension WHERE extname = 'pgmaint'
),
ns AS (
    SELECT n.oid, n.nspname FROM pg_catalog.pg_namespace n, ext WHERE n.oid = ext.extnamespace
),
facts(k, v) AS (
    -- the extension's members
    SELECT 'member ' || pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid), 'member'
      FROM pg_catalog.pg_depend d, ext
     WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.refobjid = ext.oid
       AND d.deptype = 'e'
    -- the extension's own row and its config-dump marks
    UNION ALL
    SELECT 'extension pgmaint :: version', e.extversion FROM pg_catalog.pg_extension e, ext WHERE e.oid = ext.oid
    UNION ALL
    SELECT 'extension pgmaint :: owner', pg_catalog.pg_get_userbyid(e.extowner)
      FROM pg_catalog.pg_extension e, ext WHERE e.oid = ext.oid
    UNION ALL
    SELECT 'extension pgmaint :: extconfig',
           coalesce((SELECT pg_catalog.string_agg(c.cfg::regclass::text || ' WHERE ' || pg_catalog.quote_literal(c.cond),
                                                  E'\n' ORDER BY c.cfg::regclass::text)
                       FROM ROWS FROM (pg_catalog.unnest(e.extconfig), pg_catalog.unnest(e.extcondition)) AS c(cfg, cond)), '(none)')
      FROM pg_catalog.pg_extension e, ext WHERE e.oid = ext.oid
    -- the schema
    UNION ALL
    SELECT 'schema ' || ns.nspname || ' :: owner', pg_catalog.pg_get_userbyid(n.nspowner)
      FROM pg_catalog.pg_namespace n JOIN ns USING (oid)
    UNION ALL
    SELECT 'schema ' || ns.nspname || ' :: acl',
           coalesce((SELECT pg_catalog.string_agg(a::text, ' ' ORDER BY a::text) FROM pg_catalog.unnest(n.nspacl) a), '(default)')
      FROM pg_catalog.pg_namespace n JOIN ns USING (oid)
    UNION ALL
    SELECT 'schema ' || ns.nspname || ' :: comment', coalesce(pg_catalog.obj_description(n.oid, 'pg_namespace'), '(none)')
      FROM pg_catalog.pg_namespace n JOIN ns USING (oid)
    -- functions and procedures
    UNION ALL
    SELECT 'function ' || p.oid::regprocedure::text || ' :: ' || f.aspect, f.val
      FROM pg_catalog.pg_proc p JOIN ns ON ns.oid = p.pronamespace,
           LATERAL (VALUES
               ('definition', CASE WHEN p.prokind = 'a' THEN 'aggregate' ELSE pg_catalog.pg_get_functiondef(p.oid) END),
               ('owner', pg_catalog.pg_get_userbyid(p.proowner)),
               ('acl', coalesce((SELECT pg_catalog.string_agg(a::text, ' ' ORDER BY a::text) FROM pg_catalog.unnest(p.proacl) a), '(default)')),
               ('comment', coalesce(pg_catalog.obj_description(p.oid, 'pg_proc'), '(none)'))
           ) AS f(aspect, val)
    -- tables, views, sequences, indexes, composite types' relations
    UNION ALL
    SELECT 'relation ' || c.oid::regclass::text || ' :: ' || f.aspect, f.val
      FROM pg_catalog.pg_class c JOIN ns ON ns.oid = c.relnamespace,
           LATERAL (VALUES
               ('kind', c.relkind::text || CASE c.relpersistence WHEN 'u' THEN ' unlogged' WHEN 't' THEN ' temp' ELSE '' END),
               ('owner', pg_catalog.pg_get_userbyid(c.relowner)),
               ('acl', coalesce((SELECT pg_catalog.string_agg(a::text, ' ' ORDER BY a::text) FROM pg_catalog.unnest(c.relacl) a), '(default)')),
               ('comment', coalesce(pg_catalog.obj_description(c.oid, 'pg_class'), '(none)')),
               ('options', coalesce(c.reloptions::text, '(none)')),
               ('row security', c.relrowsecurity::text || '/' || c.relforcerowsecurity::text),
               ('replica identity', c.relreplident::text)
           ) AS f(aspect, val)
     WHERE c.relkind <> 'i' AND c.relkind <> 'I'
    UNION ALL
    SELECT 'relation ' || c.oid::regclass::text || ' :: view definition', pg_catalog.pg_get_viewdef(c.oid)
      FROM pg_catalog.pg_class c JOIN ns ON ns.oid = c.relnamespace
     WHERE c.relkind IN ('v', 'm')
    -- columns
    UNION ALL
    SELECT 'column ' || c.oid::regclass::text || '.' || pg_catalog.quote_ident(a.attname),
           'position ' || pg_catalog.row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum)
           || ', type ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
           || CASE WHEN a.attnotnull THEN ', not null' ELSE '' END
           || coalesce(', default ' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), '')
           || CASE a.attidentity WHEN 'a' THEN ', identity always' WHEN 'd' THEN ', identity by default' ELSE '' END
           || CASE a.attgenerated WHEN 's' THEN ', generated stored' ELSE '' END
           || CASE WHEN a.attcollation <> t.typcollation THEN ', collate ' || a.attcollation::regcollation::text ELSE '' END
           || CASE WHEN a.attstorage <> t.typstorage THEN ', storage ' || a.attstorage::text ELSE '' END
           || coalesce(', acl ' || (SELECT pg_catalog.string_agg(x::text, ' ' ORDER BY x::text)
                                      FROM pg_catalog.unnest(a.attacl) x), '')
           || coalesce(', comment ' || pg_catalog.col_description(c.oid, a.attnum), '')
      FROM pg_catalog.pg_class c JOIN ns ON ns.oid = c.relnamespace
      JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'c', 'f')
    -- constraints (of tables and of domains)
    UNION ALL
    SELECT 'constraint ' || coalesce(con.conrelid::regclass::text, con.contypid::regtype::text) || '.'
           || pg_catalog.quote_ident(con.conname),
           pg_catalog.pg_get_constraintdef(con.oid)
           || CASE WHEN con.condeferrable THEN ' (deferrable)' ELSE '' END
           || coalesce(', comment ' || pg_catalog.obj_description(con.oid, 'pg_constraint'), '')
      FROM pg_catalog.pg_constraint con JOIN ns ON ns.oid = con.connamespace
    -- indexes
    UNION ALL
    SELECT 'index ' || i.indexrelid::regclass::text,
           pg_catalog.pg_get_indexdef(i.indexrelid)
           || coalesce(', comment ' || pg_catalog.obj_description(i.indexrelid, 'pg_class'), '')
      FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
      JOIN ns ON ns.oid = c.relnamespace
    -- sequences' parameters
    UNION ALL
    SELECT 'sequence ' || s.seqrelid::regclass::text,
           pg_catalog.format('%s start %s increment %s min %s max %s cache %s%s',
                             s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqmin, s.seqmax,
                             s.seqcache, CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END)
      FROM pg_catalog.pg_sequence s JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid
      JOIN ns ON ns.oid = c.relnamespace
    -- triggers (not the internal ones of foreign keys)
    UNION ALL
    SELECT 'trigger ' || tg.tgrelid::regclass::text || '.' || pg_catalog.quote_ident(tg.tgname),
           pg_catalog.pg_get_triggerdef(tg.oid) || ' (enabled ' || tg.tgenabled::text || ')'
           || coalesce(', comment ' || pg_catalog.obj_description(tg.oid, 'pg_trigger'), '')
      FROM pg_catalog.pg_trigger tg JOIN pg_catalog.pg_class c ON c.oid = tg.tgrelid
      JOIN ns ON ns.oid = c.relnamespace
     WHERE NOT tg.tgisinternal
    -- row-level security policies and rules
    UNION ALL
    SELECT 'policy ' || pol.polrelid::regclass::text || '.' || pg_catalog.quote_ident(pol.polname),
           pg_catalog.format('%s %s to %s using %s check %s', pol.polcmd,
                             CASE WHEN pol.polpermissive THEN 'permissive' ELSE 'restrictive' END,
                             (SELECT pg_catalog.string_agg(CASE WHEN r = 0 THEN 'public' ELSE pg_catalog.pg_get_userbyid(r) END, ',' ORDER BY 1)
                                FROM pg_catalog.unnest(pol.polroles) r),
                             pg_catalog.pg_get_expr(pol.polqual, pol.polrelid),
                             pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid))
      FROM pg_catalog.pg_policy pol JOIN pg_catalog.pg_class c ON c.oid = pol.polrelid
      JOIN ns ON ns.oid = c.relnamespace
    UNION ALL
    SELECT 'rule ' || r.ev_class::regclass::text || '.' || pg_catalog.quote_ident(r.rulename),
           pg_catalog.pg_get_ruledef(r.oid)
      FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
      JOIN ns ON ns.oid = c.relnamespace
     WHERE r.rulename <> '_RETURN'
    -- event triggers that belong to the extension
    UNION ALL
    SELECT 'event trigger ' || pg_catalog.quote_ident(et.evtname),
           pg_catalog.format('on %s execute %s, tags %s, enabled %s, owner %s, comment %s',
                             et.evtevent, et.evtfoid::regprocedure, coalesce(et.evttags::text, '(all)'),
                             et.evtenabled, pg_catalog.pg_get_userbyid(et.evtowner),
                             coalesce(pg_catalog.obj_description(et.oid, 'pg_event_trigger'), '(none)'))
      FROM pg_catalog.pg_event_trigger et, ext
     WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                    WHERE d.classid = 'pg_catalog.pg_event_trigger'::regclass AND d.objid = et.oid
                      AND d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.refobjid = ext.oid
                      AND d.deptype = 'e')
    -- types: composite, enum, domain, base, range (not the row types of tables)
    UNION ALL
    SELECT 'type ' || t.oid::regtype::text || ' :: ' || f.aspect, f.val
      FROM pg_catalog.pg_type t JOIN ns ON ns.oid = t.typnamespace
      LEFT JOIN pg_catalog.pg_class c ON c.oid = t.typrelid,
           LATERAL (VALUES
               ('kind', t.typtype::text
                        || CASE WHEN t.typtype = 'd' THEN ' over ' || pg_catalog.format_type(t.typbasetype, t.typtypmod)
                                                          || CASE WHEN t.typnotnull THEN ' not null' ELSE '' END
                                                          || coalesce(' default ' || t.typdefault, '')
                                ELSE '' END),
               ('owner', pg_catalog.pg_get_userbyid(t.typowner)),
               ('acl', coalesce((SELECT pg_catalog.string_agg(a::text, ' ' ORDER BY a::text) FROM pg_catalog.unnest(t.typacl) a), '(default)')),
               ('comment', coalesce(pg_catalog.obj_description(t.oid, 'pg_type'), '(none)')),
               ('labels', coalesce((SELECT pg_catalog.string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder)
                                      FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid), '(none)'))
           ) AS f(aspect, val)
     WHERE (t.typrelid = 0 OR c.relkind = 'c')
       AND NOT (t.typcategory = 'A' AND t.typelem <> 0 AND EXISTS (
                    SELECT 1 FROM pg_catalog.pg_type e WHERE e.oid = t.typelem AND e.typarray = t.oid))
    -- operators, casts and other member kinds are covered by the member list
)
SELECT pg_catalog.jsonb_object_agg(k, v ORDER BY k)
  FROM (SELECT k, pg_catalog.string_agg(coalesce(v, '(null)'), E'\n' ORDER BY v) AS v
          FROM facts GROUP BY k) f;
