"""``CREATE TABLE customers``: the ``people`` temp table written down the way CRMs really hold it.

One row per customer plus a second row (same ``customer_id``) for ~0.5 % of them; the fragments
live in ``identifiers``. Column contract (others code against it): customer_id, email, phone,
first_name, last_name, city, state, postal_code, country, date_of_birth, gender, madid,
signup_date, consent_ads, consent_personalization, consent_email, loyalty_tier,
preferred_category, then extra attributes (locale, acquisition_channel, updated_at).
"""

from __future__ import annotations

from behavior_sync.demo import identifiers as ids

_CONTACT = f"""
    SELECT *,
           CASE WHEN invalid_field = 'email' THEN {ids.INVALID_EMAIL}
                ELSE ({ids.GMAIL_LOCAL}) || '@' || domain END AS clean_email,
           rnd(cid, email_key * 2 + variant, 'email_case') AS u_case,
           rnd(cid, email_key * 2 + variant, 'email_pad') AS u_pad,
           {ids.PHONE_NSN} AS n,
           CASE WHEN country = 'GB' THEN '44' ELSE '49' END AS cc,
           CASE WHEN country = 'GB' THEN CASE WHEN n LIKE '20%' THEN 2 ELSE 4 END
                WHEN country = 'DE' AND list_contains(mobile_prefixes, substr(n, 1, 3)) THEN 3
                ELSE length(home.dial[1]) END AS g,
           rnd(cid, variant, 'phone_format') AS u_fmt,
           {ids.POSTAL_CODE} AS postal,
           rnd(cid, variant, 'postal_format') AS u_postal,
           {ids.MADID_RAW} AS m
    FROM (SELECT *, {ids.LOCAL_PART} AS local_part FROM email_parts)
"""

_COUNTRY = """
    CASE WHEN rnd(cid, variant, 'country_style') < 0.02 THEN NULL
         WHEN rnd(cid, variant, 'country_style') < 0.06 THEN lower(country)
         WHEN rnd(cid, variant, 'country_style') < 0.09
              THEN pick(country_names, (rnd(cid, variant, 'country_style') - 0.06) / 0.03)
         WHEN rnd(cid, variant, 'country_style') < 0.095 THEN country || ' '
         ELSE country END
"""

_GENDER = """
    CASE WHEN rnd(cid, variant, 'gender_style') < 0.15 THEN NULL
         WHEN rnd(cid, variant, 'gender_style') < 0.25 THEN CASE sex WHEN 'F' THEN 'female' ELSE 'male' END
         WHEN rnd(cid, variant, 'gender_style') < 0.27 THEN 'U'
         ELSE sex END
"""

_STATE = """
    CASE WHEN rnd(cid, variant, 'state_style') < 0.05 THEN NULL
         WHEN rnd(cid, variant, 'state_style') < 0.08 THEN lower(home.state)
         ELSE home.state END
"""


def _identity_columns() -> str:
    """The identifier columns of ``customers``, from the ``contact`` stage."""
    email = ids.pad_sql(f"({ids.EMAIL_CASE})", "u_pad", 0.025)
    return f"""
    customer_id,
    CASE WHEN invalid_field = 'email' THEN clean_email WHEN has_email THEN {email} END AS email,
    CASE WHEN invalid_field = 'phone' THEN {ids.INVALID_PHONE}
         WHEN has_phone AND NOT (variant = 1 AND rnd(cid, 1, 'dup_drop_phone') < 0.3)
         THEN {ids.phone_format_sql()} END AS phone,
    CASE WHEN NOT first_missing THEN {ids.text_style_sql("first_name", "first_style")} END AS first_name,
    CASE WHEN NOT last_missing THEN {ids.text_style_sql("last_name", "last_style")} END AS last_name,
    CASE WHEN rnd(cid, variant, 'city_missing') >= 0.01 THEN {ids.text_style_sql("home.city", "city_style")} END
        AS city,
    {_STATE} AS state,
    CASE WHEN invalid_field = 'postal_code' THEN {ids.INVALID_POSTAL}
         WHEN has_postal THEN {ids.POSTAL_FORMAT} END AS postal_code,
    {_COUNTRY} AS country,
    CASE WHEN has_birth THEN birth_date END AS date_of_birth,
    {_GENDER} AS gender,
    CASE WHEN has_madid AND NOT (variant = 1 AND rnd(cid, 1, 'dup_drop_madid') < 0.3) THEN {ids.MADID} END AS madid"""


def customers_sql() -> str:
    """``CREATE TABLE customers`` from the temp tables ``people``, ``email_versions``, ``countries``."""
    return f"""
CREATE TABLE customers AS
WITH rows AS ({ids.ROWS}),
email_parts AS ({ids.EMAIL_PARTS}),
contact AS ({_CONTACT})
SELECT {_identity_columns()},
    DATE '1970-01-01' + CAST(signup_day AS INTEGER) AS signup_date,
    consent_ads, consent_personalization, consent_email, loyalty_tier, preferred_category,
    locale, acquisition_channel,
    make_timestamp(updated_day * 86400000000
                   + CAST(floor(rnd(cid, updated_day, 'updated_time') * 86400000000) AS BIGINT)) AS updated_at
FROM contact
ORDER BY customer_id, variant
"""
