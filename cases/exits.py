"""How every millheat entry point fails on bad input: one line on stderr and exit status 2.

Case scripts end with ``raise SystemExit(run_main(main, "cases.tool_wear"))`` and the ``millheat``
subcommands call :func:`report_user_error` in their own ``except``: a user's mistake (a
:class:`ValueError` such as :class:`thermo.case.CaseError` or
:class:`thermo.atomic.OutputPathError`, or a missing / unreadable file) prints
``PROG: error: MESSAGE`` and returns 2, like ``argparse`` does for a bad option. Anything else is
a bug in millheat and keeps its traceback. ``MILLHEAT_TRACEBACK=1`` shows the traceback of user
errors too (for debugging a case).

Under ``mpirun`` the errors of millheat's parallel paths are collective (rank 0's error is
raised on every rank: :func:`meshes.gmsh_bridge.bcast_error`, :mod:`thermo.root_work`), so
every rank exits 2 but only rank 0 prints the line: one line, not one per rank interleaved.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence

#: Exceptions that mean "the input is wrong", not "millheat is wrong".
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, OSError)


def report_user_error(prog: str, err: BaseException) -> int:
    """Print ``PROG: error: MESSAGE`` (one line) to stderr and return exit status 2."""
    message = " ".join(str(err).split()) or type(err).__name__
    if isinstance(err, OSError) and err.filename and str(err.filename) not in message:
        message = f"{err.filename}: {message}"
    mpi = sys.modules.get("mpi4py.MPI")  # never imported here: only when the run uses MPI
    if mpi is None or not mpi.Is_initialized() or mpi.COMM_WORLD.rank == 0:
        print(f"{prog}: error: {message}", file=sys.stderr)
    return 2


def run_main(
    main: Callable[[Sequence[str] | None], int | None],
    prog: str,
    argv: Sequence[str] | None = None,
) -> int:
    """Run a case script's ``main(argv)``; user errors exit 2 with one line (see module doc)."""
    try:
        return int(main(argv) or 0)
    except USER_ERRORS as err:
        if os.environ.get("MILLHEAT_TRACEBACK"):
            raise
        return report_user_error(prog, err)
