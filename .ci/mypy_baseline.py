"""mypy with a baseline: the typed core of the street-parking domains (pyproject's [tool.mypy] files) must
have no error at all; the other services and the device API must have no error beyond those listed in
.ci/mypy-baseline.txt (file, message and code; line numbers left out so that edits elsewhere in a file
do not matter). A new error fails; a fixed one is reported so that its line can be deleted.

    python .ci/mypy_baseline.py           check
    python .ci/mypy_baseline.py --write   rewrite the baseline (only after fixing errors, never to add one)
"""
from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / ".ci" / "mypy-baseline.txt"
WIDER = ["app/berths/services.py", "app/devices/services.py", "app/exports/services.py", "app/inspections/services.py",
         "app/lanes/services.py", "app/members/services.py", "app/parks/services.py", "app/sensors/services.py",
         "app/shifts/services.py", "app/staff/services.py", "app/sync/services.py", "app/tariffs/services.py",
         "app/tenancy/services.py", "app/tracks/services.py", "app/core", "pos_api"]
ERROR = re.compile(r"^(?P<file>[^:]+):\d+: error: (?P<message>.*)$")


def run(*targets: str) -> list[str]:
    out = subprocess.run([sys.executable, "-m", "mypy", *targets], cwd=ROOT, capture_output=True, text=True)
    if out.returncode not in (0, 1):
        sys.exit(out.stdout + out.stderr)
    return [f"{m['file']}: {m['message']}" for line in out.stdout.splitlines() if (m := ERROR.match(line))]


def main() -> int:
    strict = run()  # the files named in pyproject.toml
    if strict:
        print("mypy: the typed modules must stay free of errors:\n  " + "\n  ".join(strict))
        return 1
    found = Counter(run(*WIDER))
    if "--write" in sys.argv:
        BASELINE.write_text("".join(f"{line}\n" for line in sorted(found.elements())))
        print(f"mypy: baseline written, {sum(found.values())} errors")
        return 0
    known = Counter(line for line in BASELINE.read_text().splitlines() if line.strip())
    new, fixed = found - known, known - found
    if fixed:
        print("mypy: fixed since the baseline (delete these lines from .ci/mypy-baseline.txt):\n  "
              + "\n  ".join(sorted(fixed.elements())))
    if new:
        print("mypy: new errors:\n  " + "\n  ".join(sorted(new.elements())))
        return 1
    print(f"mypy: typed modules clean; {sum(found.values())} known errors elsewhere, none new")
    return 0


if __name__ == "__main__":
    sys.exit(main())
