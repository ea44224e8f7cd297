"""Training data files read with libyaml's C loader (PyYAML's CSafeLoader, when PyYAML was built
with it): the same data as yaml.safe_load, about twenty times faster, which `make train` needs for
the tens of thousands of examples under data/."""

from typing import Any

import yaml

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(text: str) -> Any:
    """What yaml.safe_load(text) gives; errors are yaml.YAMLError as there."""
    return yaml.load(text, Loader=SafeLoader)
