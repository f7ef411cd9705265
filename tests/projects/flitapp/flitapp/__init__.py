"""A click CLI built by flit."""

import click

__version__ = "0.4.0"


@click.command()
@click.version_option()
def main() -> None:
    click.echo(f"flitapp from {__name__}")
