"""A small click CLI, bundled as a zipapp with its dependency."""
