"""Wheel files: opening an artifact defensively, RECORD, WHEEL, METADATA and entry points, and
writing wheels and zip archives."""
