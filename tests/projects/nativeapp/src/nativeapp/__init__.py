"""A CLI whose dependencies have extension modules: markupsafe (through jinja2) and
pydantic-core (through pydantic)."""
