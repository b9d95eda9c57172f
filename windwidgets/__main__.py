"""``python -m windwidgets demo``: run the quickstart notebook and write its report."""
from __future__ import annotations

import argparse
import os
import re
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m windwidgets", description=__doc__.split(":")[0] + ".")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser(
        "demo", help="run the quickstart notebook; write an HTML report and its pictures",
        description="Execute the quickstart notebook (an LSTM on wind data, a forecast with its band, "
                    "the error by lead time) in a fresh kernel, without a browser, and write the "
                    "executed notebook, an HTML report and the pictures (figures/: PNG and SVG) under --out.")
    demo.add_argument("--out", default="demo-output", metavar="DIR",
                      help="folder for the report and the pictures (default: demo-output)")
    demo.add_argument("--quick", action="store_true",
                      help="small data and few epochs, in seconds (the same as WINDWIDGETS_QUICK=1)")
    args = parser.parse_args(argv)

    from .notebooks import QUICK, demo_notebook, report

    quick = args.quick or os.environ.get(QUICK) == "1"
    print(f"running {demo_notebook().name}{' (quick settings)' if quick else ''} ...", flush=True)
    try:
        written = report(demo_notebook(), args.out, quick=quick)
    except Exception as error:
        if not hasattr(error, "written"):
            raise
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(error)).strip()  # without the terminal colours
        last = text.splitlines()[-1] if text else type(error).__name__
        print(f"the notebook stopped at a failing cell: {last}\n"
              f"what ran is in {error.written['html']}", file=sys.stderr)
        return 1
    if written["result"]:
        print(written["result"])
    print(f"report:   {written['html']}")
    print(f"notebook: {written['notebook']}")
    for path in written["figures"]:
        print(f"picture:  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
