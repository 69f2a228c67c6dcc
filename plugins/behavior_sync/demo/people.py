"""Who the demo customers are: one row per customer of identity content and behavioral traits.

``people`` (a temp table) holds what is true about a customer, drawn from ``rnd(customer, 0, salt)``
only: country and city, name, birth date, which identifiers exist, consent, and the traits that
drive the facts (order and browse rates, affinities for premium, discounts, fast shipping, new
arrivals, abandoning carts). How the values are *written* (case, padding, formats) is decided per
stored row later (``identifiers``). ``email_versions`` records the e-mail changes that happened
by ``as_of``: each customer changes address with 5 % probability per absolute 365-day period.
"""

from __future__ import annotations

from behavior_sync.demo.vocabulary import CATEGORIES, COUNTRY_SHARES


def _country_case() -> str:
    """A CASE choosing the country by cumulative share from one uniform draw."""
    branches = " ".join(f"WHEN u_country < {bound!r} THEN '{code}'" for code, bound, *_ in COUNTRY_SHARES[:-1])
    return f"CASE {branches} ELSE '{COUNTRY_SHARES[-1][0]}' END"


def _affinity(name: str, high_share: float, high: tuple[float, float], low: tuple[float, float]) -> str:
    """A per-customer probability: ``high_share`` of customers draw from ``high``, the rest from ``low``."""
    u = f"rnd(cid, 0, '{name}_level')"
    return (
        f"CASE WHEN rnd(cid, 0, '{name}_kind') < {high_share} THEN {high[0]} + {high[1] - high[0]:.4f} * {u} "
        f"ELSE {low[0]} + {low[1] - low[0]:.4f} * {u} END"
    )


_CATEGORY_LIST = "[" + ", ".join(f"'{c}'" for c in CATEGORIES) + "]"

_DRAWN = """
    SELECT i AS cid,
           CAST($signup_from_day + floor(sqrt(rnd(i, 0, 'signup')) * $signup_span_days) AS BIGINT) AS signup_day,
           rnd(i, 0, 'country') AS u_country,
           rnd(i, 0, 'activity') AS u_activity,
           rnd(i, 0, 'order_rate') AS u_rate
    FROM range(1, $customers + 1) AS t(i)
"""

_TRAITS = """
    CASE WHEN u_activity < 0.18 THEN 0.003
         WHEN u_activity < 0.58 THEN 0.015 + 0.035 * u_rate
         WHEN u_activity < 0.88 THEN 0.06 + 0.12 * u_rate
         ELSE 0.2 + 0.3 * u_rate END AS order_rate,
    0.1 + 1.2 * order_rate + 0.3 * rnd(cid, 0, 'browse_rate') AS browse_rate,
    {premium} AS p_premium,
    {discount} AS p_discount,
    {express} AS p_express,
    {new_arrival} AS p_new_arrival,
    0.04 + 0.4 * pow(rnd(cid, 0, 'cart'), 2) AS p_cart_abandon,
    CAST(floor(rnd(cid, 0, 'season_phase') * 13) AS BIGINT) AS season_phase,
    CAST(floor(rnd(cid, 0, 'category') * {n_categories}) AS BIGINT) AS preferred_cat
"""

_IDENTITY = """
    pick(c.cities, rnd(cid, 0, 'city')) AS home,
    CASE WHEN rnd(cid, 0, 'sex') < 0.51 THEN 'F' ELSE 'M' END AS sex,
    pick(CASE WHEN sex = 'F' THEN c.first_f ELSE c.first_m END, rnd(cid, 0, 'first_name')) AS first_name,
    pick(c.last_names, rnd(cid, 0, 'last_name')) AS last_name,
    DATE '1946-01-01' + CAST(floor(rnd(cid, 0, 'birth') * 22640) AS INTEGER) AS birth_date,
    rnd(cid, 0, 'has_email') >= 0.03 AS has_email,
    rnd(cid, 0, 'has_phone') >= 0.12 AS has_phone,
    rnd(cid, 0, 'has_postal') >= 0.04 AS has_postal,
    rnd(cid, 0, 'has_birth') >= 0.14 AS has_birth,
    rnd(cid, 0, 'has_madid') < 0.30 AS has_madid,
    rnd(cid, 0, 'first_missing') < 0.015 AS first_missing,
    rnd(cid, 0, 'last_missing') < 0.015 AS last_missing,
    CASE WHEN rnd(cid, 0, 'invalid') < 0.011
         THEN pick(['email', 'phone', 'postal_code'], rnd(cid, 0, 'invalid_field')) END AS invalid_field,
    rnd(cid, 0, 'duplicate') < 0.005 AS duplicated
"""

_CONSENT = """
    CASE WHEN rnd(cid, 0, 'consent_ads') < 0.84 THEN TRUE
         WHEN rnd(cid, 0, 'consent_ads') < 0.95 THEN FALSE END AS consent_ads,
    CASE WHEN rnd(cid, 0, 'consent_pers') < 0.03 THEN NULL
         WHEN consent_ads IS NULL THEN CASE WHEN rnd(cid, 0, 'consent_pers') < 0.5 THEN NULL ELSE TRUE END
         WHEN consent_ads THEN rnd(cid, 0, 'consent_pers') < 0.94
         ELSE rnd(cid, 0, 'consent_pers') < 0.15 END AS consent_personalization,
    rnd(cid, 0, 'consent_email') < 0.72 AS consent_email,
    CASE WHEN rnd(cid, 0, 'tier') < 0.2 THEN NULL
         WHEN order_rate >= 0.2 THEN CASE WHEN rnd(cid, 0, 'tier') < 0.6 THEN 'platinum' ELSE 'gold' END
         WHEN order_rate >= 0.06 THEN CASE WHEN rnd(cid, 0, 'tier') < 0.5 THEN 'gold' ELSE 'silver' END
         ELSE 'bronze' END AS loyalty_tier,
    pick(['organic', 'organic', 'paid_social', 'search', 'referral', 'store'], rnd(cid, 0, 'channel'))
        AS acquisition_channel
"""


def people_sql() -> str:
    """``CREATE TEMP TABLE people``: customers signed up by ``$as_of_day``, ids 1..``$customers``."""
    traits = _TRAITS.format(
        premium=_affinity("premium", 0.15, (0.6, 0.95), (0.02, 0.2)),
        discount=_affinity("discount", 0.25, (0.6, 0.95), (0.05, 0.35)),
        express=_affinity("express", 0.25, (0.55, 0.9), (0.05, 0.3)),
        new_arrival=_affinity("new_arrival", 0.2, (0.45, 0.85), (0.05, 0.3)),
        n_categories=len(CATEGORIES),
    )
    return f"""
CREATE TEMP TABLE people AS
WITH drawn AS ({_DRAWN}),
placed AS (SELECT *, {_country_case()} AS country FROM drawn WHERE signup_day <= $as_of_day)
SELECT cid, 1000000 + cid AS customer_id, signup_day, country,
       c.currency, c.price_factor, c.locale,
       {traits},
       {_CATEGORY_LIST}[1 + preferred_cat] AS preferred_category,
       {_IDENTITY},
       {_CONSENT}
FROM placed JOIN countries AS c ON c.code = placed.country
"""


EMAIL_VERSIONS_SQL = """
CREATE TEMP TABLE email_versions AS
WITH changes AS (
    SELECT p.cid, k.period,
           k.period * $email_period_days
             + CAST(floor(rnd(p.cid, k.period, 'email_change_day') * $email_period_days) AS BIGINT) AS change_day,
           p.signup_day
    FROM people AS p,
         range(CAST($signup_from_day // $email_period_days AS BIGINT),
               CAST($as_of_day // $email_period_days + 1 AS BIGINT)) AS k(period)
    WHERE rnd(p.cid, k.period, 'email_change') < 0.05
)
SELECT cid, max(period) AS email_version, max(change_day) AS changed_day
FROM changes
WHERE change_day > signup_day AND change_day <= $as_of_day
GROUP BY cid
"""
