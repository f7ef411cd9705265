"""Validate a greeting with pydantic, render it with jinja2, and say where the native code came from."""

import sys

import jinja2
import pydantic


class Greeting(pydantic.BaseModel):
    name: str
    times: int


TEMPLATE = "{% for _ in range(greeting.times) %}hello {{ greeting.name }}\n{% endfor %}"


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "world"
    greeting = Greeting.model_validate({"name": name, "times": "2"})
    print(jinja2.Environment(autoescape=True).from_string(TEMPLATE).render(greeting=greeting), end="")
    for module in ("markupsafe._speedups", "pydantic_core._pydantic_core"):
        print(f"{module}: {sys.modules[module].__file__}")
