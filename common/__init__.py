"""Plumbing every app shares: API mixins, fields, pagination, permissions, errors and CSV; filters;
formatting and badges; the bulk upsert. It imports no project app (see ARCHITECTURE.md)."""
