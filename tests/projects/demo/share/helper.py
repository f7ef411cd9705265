this is not python and must not be compiled
