"""Local stand-ins for the destination APIs (Meta, and later HubSpot, CleverTap, Google).

Each sandbox speaks its vendor's real wire protocol on 127.0.0.1 so the official SDKs work
unchanged against it; ``sandbox.common`` holds what they share (HTTP server lifecycle, fault
injection, rate windows, state persistence). Sandboxes are strict on purpose: they refuse what
the real API refuses, so the pipeline's mistakes show up in tests rather than in production.
"""
