import sys

import click


@click.command()
@click.argument("name", default="world")
@click.option("--exit-code", type=int, default=0, help="Status to exit with.")
@click.version_option()
def main(name: str, exit_code: int) -> None:
    """Greet NAME."""
    click.echo(f"hello {name} from {__name__} on {sys.version_info[0]}.{sys.version_info[1]}")
    sys.exit(exit_code)
