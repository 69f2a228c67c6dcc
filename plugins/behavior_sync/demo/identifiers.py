"""How the demo customers' identifiers are written down: the messy ``customers`` table.

Content (which e-mail, phone, postal code a customer has) comes from ``rnd(customer, 0, ...)`` or,
for the e-mail, ``rnd(customer, email_key, ...)``; presentation (case, padding, phone format)
comes from draws keyed by the stored row (``variant`` 0, or 1 for the ~0.5 % duplicated rows),
so a duplicate is the same person written differently, sometimes with the e-mail they had before.

Messiness, by design: upper/capitalized/padded e-mails, Gmail dots and +tags, phones in several
national and international formats, ISO and non-ISO country values, accents dropped or kept,
odd casing and padding of names, missing values, and for ~1.1 % of customers one invalid value
(e-mail, phone or postal code). Valid phones are valid for their country per libphonenumber.
"""

from __future__ import annotations

from behavior_sync.demo.vocabulary import GMAIL_TAGS

_TAGS = "[" + ", ".join(f"'{t}'" for t in GMAIL_TAGS) + "]"

# Stage 1: rows to store, with the e-mail key (0 = the address at signup).
ROWS = """
    SELECT p.*, v.variant,
           CASE WHEN v.variant = 1 AND rnd(p.cid, 0, 'dup_stale_email') < 0.5 THEN 0
                ELSE coalesce(e.email_version, 0) END AS email_key,
           coalesce(e.changed_day, p.signup_day) AS updated_day,
           c.domains, c.country_names, c.mobile_prefixes
    FROM people AS p
    LEFT JOIN email_versions AS e ON e.cid = p.cid
    JOIN countries AS c ON c.code = p.country
    CROSS JOIN (VALUES (0), (1)) AS v(variant)
    WHERE v.variant = 0 OR p.duplicated
"""

# Stage 2: e-mail content from the name, a pattern, digits and a domain.
EMAIL_PARTS = """
    SELECT *,
           regexp_replace(lower(strip_accents(first_name)), '[^a-z0-9]', '', 'g') AS f,
           regexp_replace(lower(strip_accents(last_name)), '[^a-z0-9]', '', 'g') AS l,
           pick(domains, rnd(cid, email_key, 'email_domain')) AS domain,
           rnd(cid, email_key, 'email_pattern') AS u_pattern,
           CASE WHEN rnd(cid, email_key, 'email_suffix') < 0.65
                THEN digits(rnd(cid, email_key, 'email_digits'),
                            2 + CAST(floor(rnd(cid, email_key, 'email_digits_len') * 3) AS INTEGER))
                ELSE '' END AS suffix
    FROM rows
"""

LOCAL_PART = """
    CASE WHEN u_pattern < 0.25 THEN f || '.' || l
         WHEN u_pattern < 0.40 THEN f || l
         WHEN u_pattern < 0.50 THEN substr(f, 1, 1) || l
         WHEN u_pattern < 0.58 THEN f || '_' || l
         WHEN u_pattern < 0.70 THEN l || '.' || f
         WHEN u_pattern < 0.85 THEN f || CAST(year(birth_date) AS VARCHAR)
         ELSE f || '.' || substr(l, 1, 1) END || suffix
"""

GMAIL_LOCAL = f"""
    CASE WHEN domain IN ('gmail.com', 'googlemail.com') AND rnd(cid, email_key, 'gmail_dots') < 0.12
         THEN replace(substr(local_part, 1, 1) || '.' || substr(local_part, 2), '..', '.') ELSE local_part END
    || CASE WHEN domain IN ('gmail.com', 'googlemail.com') AND rnd(cid, email_key, 'gmail_tag') < 0.10
            THEN '+' || pick({_TAGS}, rnd(cid, email_key, 'gmail_tag_name')) ELSE '' END
"""

INVALID_EMAIL = """
    pick([f || '@', 'n/a', f || '@@' || domain, f || '.' || l || '.' || domain, 'none',
          f || '@' || split_part(domain, '.', 1), f || ' ' || l || '@' || domain],
         rnd(cid, 0, 'invalid_kind'))
"""

EMAIL_CASE = """
    CASE WHEN u_case < 0.04 THEN upper(clean_email)
         WHEN u_case < 0.10 THEN upper(substr(clean_email, 1, 1)) || substr(clean_email, 2)
         WHEN u_case < 0.12 THEN replace(clean_email, '@' || domain,
                                         '@' || upper(substr(domain, 1, 1)) || substr(domain, 2))
         ELSE clean_email END
"""

PAD = """
    CASE WHEN {u} < {share} THEN pick([' ' || {x}, {x} || ' ', '  ' || {x} || '  ', {x} || '   '], {u} / {share})
         ELSE {x} END
"""

# Phone content: a national significant number per country (no trunk prefix, no country code).
PHONE_NSN = """
    CASE country
      WHEN 'US' THEN pick(home.dial, rnd(cid, 0, 'phone_area')) || '555' || digits(rnd(cid, 0, 'phone_line'), 4)
      WHEN 'CA' THEN pick(home.dial, rnd(cid, 0, 'phone_area')) || '555' || digits(rnd(cid, 0, 'phone_line'), 4)
      WHEN 'BR' THEN home.dial[1] || '9' || pick_char('6789', rnd(cid, 0, 'phone_area'))
                     || digits(rnd(cid, 0, 'phone_line'), 7)
      WHEN 'GB' THEN CASE WHEN rnd(cid, 0, 'phone_kind') < 0.85
                          THEN pick(mobile_prefixes, rnd(cid, 0, 'phone_area')) || digits(rnd(cid, 0, 'phone_line'), 6)
                          ELSE '2079460' || digits(rnd(cid, 0, 'phone_line'), 3) END
      WHEN 'DE' THEN CASE WHEN rnd(cid, 0, 'phone_kind') < 0.55
                          THEN pick(mobile_prefixes, rnd(cid, 0, 'phone_area')) || digits(rnd(cid, 0, 'phone_line'), 8)
                          ELSE home.dial[1] || pick_char('123456789', rnd(cid, 0, 'phone_area'))
                               || digits(rnd(cid, 0, 'phone_line'), 9 - length(home.dial[1])) END
      ELSE CASE WHEN rnd(cid, 0, 'phone_kind') < 0.8
                THEN pick(mobile_prefixes, rnd(cid, 0, 'phone_area')) || digits(rnd(cid, 0, 'phone_line'), 7)
                ELSE pick_char('13', rnd(cid, 0, 'phone_area')) || digits(rnd(cid, 0, 'phone_line'), 8) END
    END
"""

# Phone presentation: n is the NSN, g the length of its leading group (area code or prefix).
PHONE_FORMAT = """
    CASE country
      WHEN 'US' THEN {nanp}
      WHEN 'CA' THEN {nanp}
      WHEN 'BR' THEN pick(['+55 ' || substr(n, 1, 2) || ' ' || substr(n, 3, 5) || '-' || substr(n, 8),
                           '(' || substr(n, 1, 2) || ') ' || substr(n, 3, 5) || '-' || substr(n, 8),
                           '(' || substr(n, 1, 2) || ') ' || substr(n, 3, 5) || '-' || substr(n, 8),
                           n, '+55' || n, substr(n, 1, 2) || ' ' || substr(n, 3, 5) || '-' || substr(n, 8)], u_fmt)
      WHEN 'FR' THEN pick(['0' || substr(n, 1, 1) || ' ' || substr(n, 2, 2) || ' ' || substr(n, 4, 2) || ' '
                               || substr(n, 6, 2) || ' ' || substr(n, 8, 2),
                           '+33 ' || substr(n, 1, 1) || ' ' || substr(n, 2, 2) || ' ' || substr(n, 4, 2) || ' '
                               || substr(n, 6, 2) || ' ' || substr(n, 8, 2),
                           '0' || substr(n, 1, 1) || '.' || substr(n, 2, 2) || '.' || substr(n, 4, 2) || '.'
                               || substr(n, 6, 2) || '.' || substr(n, 8, 2),
                           '0' || n, '+33' || n], u_fmt)
      ELSE pick(['0' || substr(n, 1, g) || ' ' || substr(n, g + 1),
                 '0' || substr(n, 1, g) || ' ' || substr(n, g + 1),
                 '+' || cc || ' ' || substr(n, 1, g) || ' ' || substr(n, g + 1),
                 '+' || cc || ' (0)' || substr(n, 1, g) || ' ' || substr(n, g + 1),
                 '0' || n, '+' || cc || n,
                 CASE WHEN country = 'DE' THEN '0' || substr(n, 1, g) || '/' || substr(n, g + 1)
                      ELSE '0' || substr(n, 1, g) || ' ' || substr(n, g + 1) END], u_fmt)
    END
"""

_NANP = """pick(['(' || substr(n, 1, 3) || ') ' || substr(n, 4, 3) || '-' || substr(n, 7),
                 '(' || substr(n, 1, 3) || ') ' || substr(n, 4, 3) || '-' || substr(n, 7),
                 substr(n, 1, 3) || '.' || substr(n, 4, 3) || '.' || substr(n, 7),
                 '+1 ' || substr(n, 1, 3) || ' ' || substr(n, 4, 3) || ' ' || substr(n, 7),
                 substr(n, 1, 3) || '-' || substr(n, 4, 3) || '-' || substr(n, 7),
                 '1' || n, n, '+1' || n], u_fmt)"""

INVALID_PHONE = """
    pick(['12345', '555-CALL-NOW', '(000) 000-0000', 'n/a', '0', '123456', '9999', 'CALL ME'],
         rnd(cid, 0, 'invalid_kind'))
"""

POSTAL_CODE = """
    CASE country
      WHEN 'US' THEN pick(home.postal, rnd(cid, 0, 'postal_a')) || digits(rnd(cid, 0, 'postal_b'), 2)
                     || CASE WHEN rnd(cid, 0, 'zip4') < 0.2 THEN '-' || digits(rnd(cid, 0, 'postal_c'), 4) ELSE '' END
      WHEN 'CA' THEN pick(home.postal, rnd(cid, 0, 'postal_a')) || ' '
                     || pick_char('0123456789', rnd(cid, 0, 'postal_b'))
                     || pick_char('ABCEGHJKLMNPRSTVWXYZ', rnd(cid, 0, 'postal_c'))
                     || pick_char('0123456789', rnd(cid, 0, 'postal_d'))
      WHEN 'BR' THEN pick(home.postal, rnd(cid, 0, 'postal_a')) || digits(rnd(cid, 0, 'postal_b'), 3) || '-'
                     || digits(rnd(cid, 0, 'postal_c'), 3)
      WHEN 'GB' THEN pick(home.postal, rnd(cid, 0, 'postal_a')) || ' '
                     || pick_char('0123456789', rnd(cid, 0, 'postal_b'))
                     || pick_char('ABDEFGHJLNPQRSTUWXYZ', rnd(cid, 0, 'postal_c'))
                     || pick_char('ABDEFGHJLNPQRSTUWXYZ', rnd(cid, 0, 'postal_d'))
      WHEN 'DE' THEN pick(home.postal, rnd(cid, 0, 'postal_a')) || digits(rnd(cid, 0, 'postal_b'), 2)
      ELSE pick(home.postal, rnd(cid, 0, 'postal_a'))
    END
"""

POSTAL_FORMAT = """
    CASE WHEN country IN ('GB', 'CA') AND u_postal < 0.08 THEN replace(postal, ' ', '')
         WHEN country = 'GB' AND u_postal < 0.12 THEN lower(postal)
         WHEN country = 'BR' AND u_postal < 0.12 THEN replace(postal, '-', '')
         ELSE postal END
"""

INVALID_POSTAL = "pick(['ABCDE', '1234', '1234567', 'N/A', '?', '0'], rnd(cid, 0, 'invalid_kind'))"

MADID = """
    CASE WHEN rnd(cid, 0, 'madid_os') < 0.45 THEN upper(m) ELSE m END
"""
MADID_RAW = """
    substr(hex16(cid, 1, 'madid'), 1, 8) || '-' || substr(hex16(cid, 1, 'madid'), 9, 4) || '-4'
    || substr(hex16(cid, 1, 'madid'), 14, 3) || '-' || pick_char('89ab', rnd(cid, 0, 'madid_variant'))
    || substr(hex16(cid, 2, 'madid'), 2, 3) || '-' || substr(hex16(cid, 2, 'madid'), 5, 12)
"""


def phone_format_sql() -> str:
    """The phone presentation CASE (NANP formats shared by US and CA)."""
    return PHONE_FORMAT.format(nanp=_NANP)


def pad_sql(x: str, u: str, share: float) -> str:
    """``x`` padded with spaces (four shapes) when the uniform ``u`` is below ``share``."""
    return PAD.format(x=x, u=u, share=share)


def text_style_sql(column: str, salt: str) -> str:
    """A name or city as stored: sometimes upper/lower case, without accents, or padded."""
    u = f"rnd(cid, variant, '{salt}')"
    return f"""
    CASE WHEN {u} < 0.03 THEN upper({column})
         WHEN {u} < 0.05 THEN lower({column})
         WHEN {u} < 0.075 THEN pick([' ' || {column}, {column} || ' ', '  ' || {column}], ({u} - 0.05) / 0.025)
         WHEN {u} < 0.09 THEN strip_accents({column})
         ELSE {column} END"""
