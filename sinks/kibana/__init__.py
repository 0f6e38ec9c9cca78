"""Kibana saved objects (NDJSON) for deskwatch's indices, and their import into a Kibana space."""
