-- Several rooms in one booking: a hold sells, and a release gives back, the booking's
-- number of units of every night (`p_rooms`) instead of one. Otherwise the functions of
-- 0022 unchanged (see there for their errors); the old signatures are dropped, so a node
-- of the previous version cannot call them against this schema and sell one unit of a
-- booking of several.

DROP FUNCTION innkeep_hold(TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, BOOLEAN, TEXT, TEXT, TEXT, TEXT,
    BIGINT, BIGINT, TEXT, TEXT, BIGINT, BIGINT, TEXT, TEXT, BIGINT, BIGINT, TEXT, TEXT, TEXT);
DROP FUNCTION innkeep_transition(TEXT, TEXT, TEXT, BIGINT, TEXT, BIGINT, BOOLEAN, TEXT, TEXT, TEXT, BIGINT,
    TEXT, TEXT, BIGINT, BIGINT, TEXT, TEXT, TEXT);

CREATE FUNCTION innkeep_hold(
    p_room_type TEXT, p_rooms BIGINT, p_user TEXT, p_check_in TEXT, p_check_out TEXT,
    p_key TEXT, p_request_hash TEXT, p_expected TEXT, p_refused BOOLEAN,
    p_booking_id TEXT, p_status TEXT, p_tenant TEXT, p_property TEXT,
    p_hold_expires_at BIGINT, p_total_minor BIGINT, p_currency TEXT, p_doc TEXT,
    p_created_at BIGINT, p_updated_at BIGINT,
    p_event_id TEXT, p_event_type TEXT, p_event_version BIGINT, p_occurred_at BIGINT,
    p_event_tenant TEXT, p_aggregate_id TEXT, p_payload TEXT)
RETURNS TABLE (outcome TEXT, booking_doc TEXT)
LANGUAGE plpgsql AS $$
DECLARE
    seen_hash TEXT;
    seen_doc TEXT;
    stay TEXT[];
    taken TEXT[];
    sold_as TEXT;
    free_night TEXT;
BEGIN
    -- A key seen before answers before any night is touched.
    IF p_key IS NOT NULL THEN
        SELECT k.request_hash, b.doc INTO seen_hash, seen_doc
        FROM idempotency_keys k JOIN bookings b ON b.id = k.booking_id
        WHERE k.user_id = p_user AND k.key = p_key;
        IF FOUND THEN
            IF seen_hash <> p_request_hash THEN
                RETURN QUERY SELECT 'key_reused'::TEXT, NULL::TEXT;
            ELSE
                RETURN QUERY SELECT 'replayed'::TEXT, seen_doc;
            END IF;
            RETURN;
        END IF;
    END IF;
    stay := ARRAY(
        SELECT to_char(p_check_in::DATE + i, 'YYYY-MM-DD')
        FROM generate_series(0, p_check_out::DATE - p_check_in::DATE - 1) AS i
    );
    -- Every night gets a row, so the update below can take them all.
    INSERT INTO inventory (room_type_id, night, sold)
    SELECT p_room_type, n, 0 FROM unnest(stay) AS n
    ON CONFLICT (room_type_id, night) DO NOTHING;
    -- The decision: sell the booking's units of every night, only where that many are left
    -- and the night is open.
    WITH t AS (
        UPDATE inventory i SET sold = i.sold + p_rooms
        WHERE i.room_type_id = p_room_type AND i.night >= p_check_in AND i.night < p_check_out
          AND COALESCE(i.closed, 0) = 0
          AND i.sold + p_rooms <= COALESCE(i.units, (SELECT r.units FROM room_types r WHERE r.id = p_room_type))
        RETURNING i.night, i.price_minor, i.min_stay
    )
    SELECT array_agg(t.night ORDER BY t.night),
           string_agg(COALESCE(t.price_minor::TEXT, '') || ':' || COALESCE(t.min_stay::TEXT, ''), ',' ORDER BY t.night)
    INTO taken, sold_as
    FROM t;
    IF COALESCE(cardinality(taken), 0) <> cardinality(stay) THEN
        SELECT n INTO free_night FROM unnest(stay) AS n WHERE taken IS NULL OR n <> ALL (taken) ORDER BY n LIMIT 1;
        RAISE EXCEPTION USING ERRCODE = 'IK001', MESSAGE = COALESCE(free_night, p_check_in);
    END IF;
    -- The nights are locked now: what they say is what is sold.
    IF sold_as IS DISTINCT FROM p_expected THEN
        RAISE EXCEPTION USING ERRCODE = 'IK002', MESSAGE = 'the nights changed since the booking was priced';
    END IF;
    IF p_refused THEN
        RAISE EXCEPTION USING ERRCODE = 'IK004', MESSAGE = 'pricing refused the stay';
    END IF;
    INSERT INTO bookings (id, status, tenant_id, property_id, room_type_id, user_id, check_in, check_out,
                          hold_expires_at, total_minor, currency, doc, created_at, updated_at)
    VALUES (p_booking_id, p_status, p_tenant, p_property, p_room_type, p_user, p_check_in, p_check_out,
            p_hold_expires_at, p_total_minor, p_currency, p_doc, p_created_at, p_updated_at);
    IF p_key IS NOT NULL THEN
        INSERT INTO idempotency_keys (user_id, key, request_hash, booking_id, created_at)
        VALUES (p_user, p_key, p_request_hash, p_booking_id, p_created_at);
    END IF;
    INSERT INTO outbox (id, type, version, occurred_at, tenant_id, aggregate_id, payload)
    VALUES (p_event_id, p_event_type, p_event_version, p_occurred_at, p_event_tenant, p_aggregate_id, p_payload);
    RETURN QUERY SELECT 'created'::TEXT, NULL::TEXT;
END
$$;

-- Move a booking to its new status if it is still in `p_from` ('stale' otherwise, changing
-- nothing), releasing its nights when `p_release`, with its event.
CREATE FUNCTION innkeep_transition(
    p_id TEXT, p_from TEXT, p_status TEXT, p_hold_expires_at BIGINT, p_doc TEXT, p_updated_at BIGINT,
    p_release BOOLEAN, p_room_type TEXT, p_check_in TEXT, p_check_out TEXT, p_nights BIGINT, p_rooms BIGINT,
    p_event_id TEXT, p_event_type TEXT, p_event_version BIGINT, p_occurred_at BIGINT,
    p_event_tenant TEXT, p_aggregate_id TEXT, p_payload TEXT)
RETURNS TEXT
LANGUAGE plpgsql AS $$
DECLARE
    released BIGINT;
BEGIN
    UPDATE bookings SET status = p_status, hold_expires_at = p_hold_expires_at, doc = p_doc, updated_at = p_updated_at
    WHERE id = p_id AND status = p_from;
    IF NOT FOUND THEN
        RETURN 'stale';
    END IF;
    IF p_release THEN
        UPDATE inventory SET sold = sold - p_rooms
        WHERE room_type_id = p_room_type AND night >= p_check_in AND night < p_check_out AND sold >= p_rooms;
        GET DIAGNOSTICS released = ROW_COUNT;
        IF released <> p_nights THEN
            RAISE EXCEPTION USING ERRCODE = 'IK003', MESSAGE = 'booking ' || p_id || ' held nights that were not sold';
        END IF;
    END IF;
    INSERT INTO outbox (id, type, version, occurred_at, tenant_id, aggregate_id, payload)
    VALUES (p_event_id, p_event_type, p_event_version, p_occurred_at, p_event_tenant, p_aggregate_id, p_payload);
    RETURN 'moved';
END
$$;
