"""Generate (or check) the Python contracts from protos/: one package, never hand-edited."""

from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from pathlib import Path

GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def generate(protos: list[str], out: Path, include: Path) -> list[Path]:
    """Run protoc over the protos into out; return the generated files, relative to out."""
    from grpc_tools import protoc  # dev-only dependency, imported when generating

    well_known = Path(protoc.__file__).parent / "_proto"
    out.mkdir(parents=True, exist_ok=True)
    args = [
        "protoc",
        f"-I{include}",
        f"-I{well_known}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    files = [p.relative_to(out) for p in out.rglob("*") if p.name.endswith(GENERATED_SUFFIXES)]
    for package_dir in {f.parent for f in files}:
        for part in [package_dir, *package_dir.parents][:-1]:
            (out / part / "__init__.py").touch()
    return sorted(files)


def stale_files(protos: list[str], out: Path, include: Path) -> list[str]:
    """Generate into a scratch folder and list every generated file that differs from out."""
    with tempfile.TemporaryDirectory() as scratch:
        fresh = generate(protos, Path(scratch), include)
        return [
            str(f)
            for f in fresh
            if not (out / f).exists() or not filecmp.cmp(Path(scratch) / f, out / f, shallow=False)
        ]


def main(argv: list[str] | None = None) -> int:
    """Command line: codegen [--check] --out DIR PROTO..."""
    parser = argparse.ArgumentParser(prog="touchstone.common.codegen")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--include", type=Path, default=Path("protos"))
    parser.add_argument("--check", action="store_true", help="fail if the committed code is stale")
    parser.add_argument("protos", nargs="+")
    args = parser.parse_args(argv)
    if not args.check:
        generate(args.protos, args.out, args.include)
        return 0
    stale = stale_files(args.protos, args.out, args.include)
    if stale:
        print("generated code is stale; run `make generate` and commit:", *stale, sep="\n  ")
        return 1
    print(f"generated code is up to date ({len(args.protos)} protos)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
