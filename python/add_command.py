"""Adds the `rrae` command to a built wheel as a script (`<name>.data/scripts/rrae`,
which pip installs beside the interpreter), stripped of debug information, and records
it in the wheel's RECORD: maturin builds the extension, this puts the command beside it.

    python3 python/add_command.py WHEEL RRAE_BINARY
"""

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile


def main(wheel: str, binary: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        command = os.path.join(tmp, "rrae")
        shutil.copyfile(binary, command)
        if shutil.which("strip"):
            subprocess.run(["strip", "--strip-debug", command], check=True)
        data = open(command, "rb").read()
        with zipfile.ZipFile(wheel) as z:
            names = z.namelist()
            record = next(n for n in names if n.endswith(".dist-info/RECORD"))
            dist = record.split(".dist-info/")[0]
            target = f"{dist}.data/scripts/rrae"
            if target in names:
                sys.exit(f"{wheel} already has {target}")
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            lines = z.read(record).decode().splitlines()
            lines.insert(len(lines) - 1, f"{target},sha256={digest},{len(data)}")
            rebuilt = os.path.join(tmp, os.path.basename(wheel))
            with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as out:
                for info in z.infolist():
                    body = "\n".join(lines) + "\n" if info.filename == record else z.read(info.filename)
                    out.writestr(info, body)
                info = zipfile.ZipInfo(target, date_time=(2026, 1, 1, 0, 0, 0))
                info.external_attr = 0o100755 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                out.writestr(info, data)
        os.replace(rebuilt, wheel)


if __name__ == "__main__":
    main(*sys.argv[1:3])
