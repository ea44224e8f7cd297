"""Record a trained model's sha256 beside it, and refuse to load a model that does not match.

python -m core.model_integrity record models/assistant.tar.gz
python -m core.model_integrity verify models/assistant.tar.gz
"""

import hashlib
import sys
from pathlib import Path
from typing import Optional


class ModelIntegrityError(ValueError):
    pass


def digest_file(model: Path) -> Path:
    return model.with_name(model.name + ".sha256")


def sha256(model: Path) -> str:
    digest = hashlib.sha256()
    with open(model, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def record(model: Path) -> str:
    value = sha256(model)
    digest_file(model).write_text(value + "\n", encoding="ascii")
    return value


def recorded_sha256(model: Path) -> Optional[str]:
    recorded_file = digest_file(model)
    return recorded_file.read_text(encoding="ascii").strip() if recorded_file.is_file() else None


def verify(model: Path) -> str:
    """The model's sha256 if it is a local file matching the one recorded at training, else ModelIntegrityError."""
    if not model.is_file():
        raise ModelIntegrityError(f"{model}: no such model file")
    recorded_file = digest_file(model)
    if not recorded_file.is_file():
        raise ModelIntegrityError(f"{model}: no recorded sha256 ({recorded_file}); train it with `make train`")
    actual, recorded = sha256(model), recorded_file.read_text(encoding="ascii").strip()
    if actual != recorded:
        raise ModelIntegrityError(
            f"{model}: sha256 {actual} does not match {recorded} recorded at training; refusing to load it"
        )
    return actual


def main(argv: list) -> int:
    if len(argv) != 2 or argv[0] not in ("record", "verify"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        value = record(Path(argv[1])) if argv[0] == "record" else verify(Path(argv[1]))
    except ModelIntegrityError as error:
        print(f"ERROR {error}", file=sys.stderr)
        return 1
    print(f"{argv[1]} sha256 {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
