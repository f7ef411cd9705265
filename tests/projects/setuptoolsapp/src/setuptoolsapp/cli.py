import click


@click.command()
@click.version_option()
def main() -> None:
    click.echo(f"setuptoolsapp from {__name__}")
