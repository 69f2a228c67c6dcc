"""Destination-agnostic sync engine: plan (diff against committed state), guardrails, batch ledger, load, commit."""
