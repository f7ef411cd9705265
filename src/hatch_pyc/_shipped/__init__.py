"""Code that runs elsewhere: in the target interpreter (the worker), inside sourceless and zip
wheels (the selector), inside bundles (the index, resources and runtime modules).

Each module here is standard library only, keeps to Python 3.8 syntax and imports nothing of
hatch_pyc: it is shipped or started as a file of its own. The rest of hatch_pyc may import
these modules; they never import it.
"""
