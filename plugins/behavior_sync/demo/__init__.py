"""Internals of the demo warehouse generator; the public entry point is ``behavior_sync.demo_warehouse``.

* ``timeline``     absolute day numbers and the history windows ending on ``as_of``
* ``random_sql``   ``rnd(a, b, salt)`` and friends: hash-based draws as DuckDB macros
* ``vocabulary``   names, cities, dialling and postal prefixes, e-mail domains (plain data)
* ``people``       what is true about each customer (identity content, traits, e-mail changes)
* ``identifiers``  how it is written down (messy formats); ``customers`` assembles the table
* ``facts``        ``orders`` and ``browse_events``
"""
