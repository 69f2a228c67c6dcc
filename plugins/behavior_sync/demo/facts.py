"""The demo warehouse's facts: ``orders`` and ``browse_events`` on an absolute timeline.

Each customer's weekly order and browse-session counts are Poisson draws keyed by
(customer, absolute week), with a rate set by the customer's traits and a per-quarter "season"
multiplier (quiet quarters let members drift out of behaviors, busy ones bring them in). Every
attribute of a fact is keyed by the fact itself, so a fact never changes once it exists; a fact is
stored when its day lies in the history window ending on ``as_of`` (``timeline``).

``browse_events`` holds sessions (views, sometimes ending in an add-to-cart that is not bought) and,
for each order, the view / add_to_cart / checkout events that led to it.
"""

from __future__ import annotations

from behavior_sync.demo.vocabulary import BASE_PRICES, CATEGORIES

_CATEGORY_LIST = "[" + ", ".join(f"'{c}'" for c in CATEGORIES) + "]"
_PRICE_LIST = "[" + ", ".join(repr(p) for p in BASE_PRICES) + "]"
# Hours of day (UTC) weighted towards evenings.
_HOURS = "[0, 1, 6, 7, 8, 9, 10, 11, 12, 12, 13, 13, 14, 15, 16, 17, 18, 18, 19, 19, 19, 20, 20, 20, 21, 21, 22, 23]"
_DAY_US = 86_400_000_000

_SEASON = (
    "CASE WHEN rnd(p.cid, (w + p.season_phase) // 13, 'season') < 0.15 THEN 0.1 "
    "ELSE 0.55 + rnd(p.cid, (w + p.season_phase) // 13, 'season') END"
)


def _time_of_day_us(key: str, salt: str) -> str:
    """Microseconds into the day: an evening-weighted hour plus a uniform offset within it."""
    return (
        f"(CAST(pick({_HOURS}, rnd(cid, {key}, '{salt}_hour')) AS BIGINT) * 3600000000 "
        f"+ CAST(floor(rnd(cid, {key}, '{salt}_us') * 3600000000) AS BIGINT))"
    )


# Counting first and expanding with a join is ~6x faster in DuckDB than unnest(range(n)) here.
_ORDER_SLOTS = f"""
    SELECT weekly.*, slot.k
    FROM (SELECT p.cid, p.customer_id, p.signup_day, p.p_premium, p.p_discount, p.p_express, p.preferred_cat,
                 p.currency, p.price_factor, w,
                 poisson3(p.order_rate * {_SEASON}, rnd(p.cid, w, 'order_count')) AS n
          FROM people AS p, range($order_from_day // 7, $as_of_day // 7 + 1) AS t(w)
          WHERE w * 7 + 6 >= p.signup_day) AS weekly
    JOIN range(3) AS slot(k) ON slot.k < weekly.n
"""

_ORDER_DRAWS = f"""
    SELECT *, w * 4 + k AS b,
           w * 7 + CAST(floor(rnd(cid, w * 4 + k, 'order_day') * 7) AS BIGINT) AS day,
           CASE WHEN rnd(cid, w * 4 + k, 'order_cat') < 0.55 THEN preferred_cat
                ELSE CAST(floor(rnd(cid, w * 4 + k, 'order_cat_other') * {len(CATEGORIES)}) AS BIGINT) END AS cat,
           1 + CAST(floor(pow(rnd(cid, w * 4 + k, 'items'), 2) * 4) AS INTEGER) AS items,
           rnd(cid, w * 4 + k, 'premium') < p_premium AS is_premium,
           rnd(cid, w * 4 + k, 'discount') < p_discount AS discounted,
           1 + CAST(floor(rnd(cid, w * 4 + k, 'discount_pct') * 6) AS BIGINT) AS discount_idx,
           sqrt(-2 * ln(1 - rnd(cid, w * 4 + k, 'price_a'))) * cos(2 * pi() * rnd(cid, w * 4 + k, 'price_b')) AS z,
           rnd(cid, w * 4 + k, 'shipping') AS u_ship
    FROM slots
"""

_ORDER_COLUMNS = f"""
    (day * 4 + k) * 100000000 + cid AS order_id,
    customer_id,
    make_timestamp(day * {_DAY_US} + {_time_of_day_us("b", "order")}) AS order_ts,
    CAST(round(gross, 2) AS DECIMAL(12, 2)) AS amount,
    CAST(CASE WHEN discounted THEN round(gross * [0.10, 0.15, 0.20, 0.25, 0.30, 0.40][discount_idx], 2)
              ELSE 0 END AS DECIMAL(12, 2)) AS discount_amount,
    items,
    {_CATEGORY_LIST}[1 + cat] AS category,
    is_premium,
    CASE WHEN u_ship < p_express * 0.55 THEN 'express' WHEN u_ship < p_express THEN 'next_day'
         WHEN u_ship < p_express + 0.08 THEN 'pickup' ELSE 'standard' END AS shipping_speed,
    rnd(cid, b, 'returned') < CASE WHEN cat IN (0, 1) THEN 0.12 ELSE 0.05 END AS returned,
    currency,
    pick(['web', 'web', 'app', 'app', 'store'], rnd(cid, b, 'order_channel')) AS channel,
    CASE WHEN discounted THEN ['SAVE10', 'SAVE15', 'FLASH20', 'VIP25', 'SALE30', 'CLEAR40'][discount_idx]
         END AS coupon_code
"""

ORDERS_SQL = f"""
CREATE TABLE orders AS
WITH slots AS ({_ORDER_SLOTS}),
draws AS ({_ORDER_DRAWS}),
priced AS (
    SELECT *, {_PRICE_LIST}[1 + cat] * price_factor * pow(items, 0.85) * exp(0.45 * z)
              * CASE WHEN is_premium THEN 2.6 ELSE 1.0 END AS gross
    FROM draws
    WHERE day BETWEEN $order_from_day AND $as_of_day AND day >= signup_day
)
SELECT {_ORDER_COLUMNS}
FROM priced
ORDER BY order_id
"""

_SESSIONS = f"""
    SELECT weekly.*, slot.s
    FROM (SELECT p.cid, p.customer_id, p.signup_day, p.p_new_arrival, p.p_cart_abandon, p.preferred_cat, w,
                 poisson3(p.browse_rate * {_SEASON}, rnd(p.cid, w, 'session_count')) AS n
          FROM people AS p, range($browse_from_day // 7, $as_of_day // 7 + 1) AS t(w)
          WHERE w * 7 + 6 >= p.signup_day) AS weekly
    JOIN range(3) AS slot(s) ON slot.s < weekly.n
"""

_SESSION_DRAWS = f"""
    SELECT *, w * 7 + CAST(floor(rnd(cid, w * 8 + s, 'session_day') * 7) AS BIGINT) AS day,
           1 + CAST(floor(rnd(cid, w * 8 + s, 'session_views') * 4) AS BIGINT) AS views,
           rnd(cid, w * 8 + s, 'session_cart') < p_cart_abandon AS carted,
           hash_id(cid, w * 8 + s, 'session') AS session_id,
           pick(['mobile', 'mobile', 'mobile', 'desktop', 'tablet'], rnd(cid, w * 8 + s, 'device')) AS device,
           {_time_of_day_us("w * 8 + s", "session")} AS start_us
    FROM sessions
"""

_SESSION_EVENTS = f"""
    SELECT *, (w * 8 + s) * 8 + least(j, views - 1) AS item_key,
           CASE WHEN rnd(cid, (w * 8 + s) * 8 + least(j, views - 1), 'view_cat') < 0.6 THEN preferred_cat
                ELSE CAST(floor(rnd(cid, (w * 8 + s) * 8 + least(j, views - 1), 'view_cat_other')
                                * {len(CATEGORIES)}) AS BIGINT) END AS cat,
           make_timestamp(day * {_DAY_US} + start_us + j * 90000000
                          + CAST(floor(rnd(cid, (w * 8 + s) * 8 + j, 'event_gap') * 60000000) AS BIGINT)) AS event_ts
    FROM session_draws
    JOIN range(5) AS event(j) ON event.j < views + CASE WHEN carted THEN 1 ELSE 0 END
    WHERE day >= signup_day
"""

_ORDER_EVENTS = f"""
    SELECT o.customer_id,
           o.order_ts - to_microseconds(CAST(e.min_us + floor(rnd(o.order_id, e.j, 'order_event_gap')
                                                              * e.span_us) AS BIGINT)) AS event_ts,
           e.event_type, o.category,
           rnd(o.order_id, e.j, 'order_new_arrival') < p.p_new_arrival AS is_new_arrival,
           list_position({_CATEGORY_LIST}, o.category) - 1 AS cat,
           rnd(o.order_id, 0, 'order_product') AS u_product,
           hash_id(o.order_id, 0, 'order_session') AS session_id,
           pick(['mobile', 'mobile', 'desktop', 'tablet'], rnd(o.order_id, 0, 'device')) AS device
    FROM orders AS o
    JOIN people AS p ON p.customer_id = o.customer_id
    CROSS JOIN (VALUES (0, 'view', 600000000, 2400000000), (1, 'add_to_cart', 180000000, 360000000),
                       (2, 'checkout', 20000000, 100000000)) AS e(j, event_type, min_us, span_us)
    WHERE o.order_ts >= make_timestamp($browse_from_day * {_DAY_US})
"""

_PRODUCT_ID = (
    "(cat + 1) * 1000000 + CASE WHEN is_new_arrival THEN 900000 + CAST(floor(u_product * 99999) AS BIGINT) "
    "ELSE CAST(floor(u_product * 800000) AS BIGINT) END"
)

BROWSE_EVENTS_SQL = f"""
CREATE TABLE browse_events AS
WITH sessions AS ({_SESSIONS}),
session_draws AS ({_SESSION_DRAWS}),
session_events AS ({_SESSION_EVENTS}),
all_events AS (
    SELECT customer_id, event_ts, CASE WHEN j < views THEN 'view' ELSE 'add_to_cart' END AS event_type,
           {_CATEGORY_LIST}[1 + cat] AS category,
           rnd(cid, item_key, 'new_arrival') < p_new_arrival AS is_new_arrival,
           cat, rnd(cid, item_key, 'product') AS u_product, session_id, device
    FROM session_events
    UNION ALL
    SELECT customer_id, event_ts, event_type, category, is_new_arrival, cat, u_product, session_id, device
    FROM ({_ORDER_EVENTS})
)
SELECT customer_id, event_ts, event_type, category, is_new_arrival, {_PRODUCT_ID} AS product_id,
       session_id, device
FROM all_events
WHERE event_ts >= make_timestamp($browse_from_day * {_DAY_US})
  AND event_ts < make_timestamp(($as_of_day + 1) * {_DAY_US})
ORDER BY customer_id, event_ts, session_id, event_type
"""
