foo = bar = baz = 1
SEPARATOR = ","
