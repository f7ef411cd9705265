"""The build: from files and options to placed, compiled modules, stubs, archives and the
bytecode metadata, through one pipeline that the hook, ``convert`` and ``bundle`` call."""
