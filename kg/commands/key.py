"""`kg key`: the sealing key (show, export, import)."""

from __future__ import annotations

from pathlib import Path

import click

from ..cli import KgGroup, cli
from ..errors import UsageError

# --- keys -----------------------------------------------------------------------------------


@cli.group(cls=KgGroup)
def key() -> None:
    """The sealing key: confidential records are encrypted with it (KG_HOME/seal.key).

    Made on the first load of a confidential record, readable by its owner only, never
    printed. Without it sealed values cannot be read by anyone: back it up (`kg key
    export`) somewhere as safe as the case files. Losing it loses the sealed values; the
    structure (placeholders, dates, relationships) stays.
    """


@key.command("show")
def key_show() -> None:
    """Where the key is and its fingerprint (never the key itself)."""
    from ..seal import key_path, load_key

    keys = load_key()
    if keys is None:
        click.echo(f"no sealing key yet ({key_path()} is made on the first confidential load)")
        return
    click.echo(f"key file: {key_path()}\nfingerprint: {keys.fingerprint}")


@key.command("export")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write (mode 0600). Keep it apart from dumps and exports.",
)
def key_export(out: Path) -> None:
    """Copy the key to a file, to move it to another trusted machine or back it up."""
    from ..seal import key_path, read_key_file, write_key_file

    path = key_path()
    if not path.exists():
        raise UsageError(f"there is no sealing key at {path} yet")
    try:
        write_key_file(out, read_key_file(path))
    except FileExistsError:
        raise UsageError(f"{out} exists; not overwritten") from None
    click.echo(f"wrote the sealing key to {out} (mode 0600)", err=True)


@key.command("import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--replace", is_flag=True, help="Replace a different key this installation already has."
)
def key_import(file: Path, replace: bool) -> None:
    """Install a key exported with `kg key export` (or saved by `kg db dump --with-key`)."""
    from ..seal import Keyring, key_path, load_key, read_key_file, write_key_file

    new = read_key_file(file)
    fp = Keyring(new).fingerprint
    old = load_key()
    if old is not None and old.fingerprint != fp and not replace:
        raise UsageError(
            f"this installation already has another key (fingerprint "
            f"{old.fingerprint}); the file's is {fp}. Nothing was changed.",
            hint="Export the current key first (`kg key export`), then re-run with --replace.",
        )
    write_key_file(key_path(), new, overwrite=True)
    click.echo(f"imported the sealing key (fingerprint {fp}) to {key_path()}")
