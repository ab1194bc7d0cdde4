"""The ``millheat`` command line.

Each subcommand lives in its own module, which exposes ``register(subparsers)``: it adds one
parser and sets ``func`` (a callable taking the parsed ``argparse.Namespace`` and returning an exit
code). Registering modules keep their top-level imports light; heavy imports (DOLFINx, JAX) happen
inside ``func`` so that ``millheat --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: (module path) of every subcommand, in the order ``millheat --help`` lists them.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "cases.cli_mesh",
    "cases.cli_simulate",
    "cases.cli_inverse",
    "cases.cli_recommend",
)


def build_parser() -> argparse.ArgumentParser:
    """Parser with one subparser per available subcommand module."""
    parser = argparse.ArgumentParser(
        prog="millheat",
        description="Physics-first FEM + surrogate toolkit for thermal problems in milling.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name == module_name:  # subcommand not part of this build
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``millheat`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
