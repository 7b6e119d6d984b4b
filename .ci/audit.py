"""CI: audit the packages installed in the project's virtualenv for known vulnerabilities (pip-audit).

    python3 .ci/audit.py [VENV]        (default .venv)

Fails on a vulnerability that has a fixed release: raise that package's lower bound in requirements.txt.
Warns and goes on when the vulnerability service cannot be reached, or answers for none of the packages.
pip-audit goes into a throwaway virtualenv of its own, not into the app's (`make run` does not need it);
PIP_AUDIT=/path/to/pip-audit uses one already installed instead."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

TOOLING = {"pip", "setuptools", "wheel"}  # the virtualenv's own installers, not the app's requirements


def main() -> int:
    venv = Path(sys.argv[1] if len(sys.argv) > 1 else ".venv")
    with tempfile.TemporaryDirectory(prefix="pip-audit-") as tmp:
        tmp = Path(tmp)
        tool = os.environ.get("PIP_AUDIT") or _install_pip_audit(tmp)
        if tool is None:
            return _warn("could not install pip-audit; dependencies not audited")
        pins = tmp / "installed.txt"
        pins.write_text(_installed(venv))
        report = tmp / "report.json"
        run = subprocess.run([tool, "-r", str(pins), "--no-deps", "--disable-pip", "--progress-spinner", "off",
                              "--format", "json", "--output", str(report), "--timeout", "20"],
                             capture_output=True, text=True)
        if run.returncode == 2:  # pip-audit's command line refused: a mistake here, not the network
            print(run.stderr, file=sys.stderr)
            return 1
        if not report.exists() or not report.read_text().strip():
            tail = "\n".join(run.stderr.strip().splitlines()[-3:])
            return _warn(f"the vulnerability service could not be reached; dependencies not audited\n{tail}")
        return _judge(json.loads(report.read_text()))


def _install_pip_audit(tmp: Path) -> str | None:
    env = tmp / "venv"
    made = subprocess.run([sys.executable, "-m", "venv", str(env)], capture_output=True, text=True)
    if made.returncode != 0:
        return None
    installed = subprocess.run([str(env / "bin" / "pip"), "install", "-q", "pip-audit"], capture_output=True,
                               text=True)
    return str(env / "bin" / "pip-audit") if installed.returncode == 0 else None


def _installed(venv: Path) -> str:
    """name==version of every installed distribution but the installers themselves."""
    listed = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format=json",
                             "--exclude-editable"], capture_output=True, text=True, check=True)
    return "".join(f"{p['name']}=={p['version']}\n" for p in json.loads(listed.stdout)
                   if p["name"].lower() not in TOOLING)


def _judge(report: dict) -> int:
    packages = report.get("dependencies", [])
    audited = [p for p in packages if "skip_reason" not in p]
    fixable, unfixed = [], []
    for package in audited:
        for vuln in package.get("vulns", []):
            line = f"{package['name']} {package['version']}: {vuln['id']}"
            if vuln.get("fix_versions"):
                fixable.append(f"{line} (fixed in {', '.join(vuln['fix_versions'])})")
            else:
                unfixed.append(f"{line} (no fixed release yet)")
    for line in unfixed:
        print(f"WARNING: known vulnerability without a fix: {line}")
    if fixable:
        print("Known vulnerabilities with a fixed release; raise the lower bounds in requirements.txt:")
        print("\n".join(f"  {line}" for line in fixable))
        return 1
    if packages and not audited:
        return _warn(f"the vulnerability service answered for none of the {len(packages)} packages "
                     f"(e.g. {packages[0]['skip_reason']}); dependencies not audited")
    skipped = len(packages) - len(audited)
    print(f"pip-audit: no known vulnerability with a fix in {len(audited)} packages"
          + (f" ({skipped} not found by the service, not audited)" if skipped else ""))
    return 0


def _warn(message: str) -> int:
    print(f"WARNING: {message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
