"""``python -m asyncjobs``: see :mod:`asyncjobs.cli`."""

from asyncjobs.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
