"""Generate (or check) the Python contracts from protos/, never hand-edited: each context's
`touchstone.<context>.v1` into the source root that holds `touchstone.<context>` (the service's
own, or the platform's for annotations and audit), all by one protoc run."""

from __future__ import annotations

import argparse
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
    for version_dir in {f.parent for f in files}:  # touchstone/<context>/v1: the context's own
        (out / version_dir / "__init__.py").touch()  # package and the namespace are not made here
    return sorted({*files, *(f.parent / "__init__.py" for f in files)})


def owner(generated: Path, roots: list[Path]) -> Path:
    """The source root holding the package a generated file belongs to (touchstone/<context>)."""
    package = Path(*generated.parts[:2])
    for root in roots:
        if (root / package / "__init__.py").is_file():
            return root
    raise SystemExit(f"no source root holds {package}: make its package before generating")


def placed(protos: list[str], roots: list[Path], include: Path) -> dict[Path, bytes]:
    """Each generated file's place in the source roots, and its content."""
    with tempfile.TemporaryDirectory() as scratch:
        fresh = generate(protos, Path(scratch), include)
        return {owner(f, roots) / f: (Path(scratch) / f).read_bytes() for f in fresh}


def stale_files(protos: list[str], roots: list[Path], include: Path) -> list[str]:
    """Every generated file that differs from the committed one, or is missing."""
    return [
        str(path)
        for path, content in placed(protos, roots, include).items()
        if not path.is_file() or path.read_bytes() != content
    ]


def main(argv: list[str] | None = None) -> int:
    """Command line: codegen [--check] --roots DIR... -- PROTO..."""
    parser = argparse.ArgumentParser(prog="touchstone.tools.dev.codegen")
    parser.add_argument("--roots", type=Path, nargs="+", required=True)
    parser.add_argument("--include", type=Path, default=Path("protos"))
    parser.add_argument("--check", action="store_true", help="fail if the committed code is stale")
    parser.add_argument("protos", nargs="+")
    args = parser.parse_args(argv)
    if not args.check:
        for path, content in placed(args.protos, args.roots, args.include).items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        return 0
    stale = stale_files(args.protos, args.roots, args.include)
    if stale:
        print("generated code is stale; run `make generate` and commit:", *stale, sep="\n  ")
        return 1
    print(f"generated code is up to date ({len(args.protos)} protos)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
