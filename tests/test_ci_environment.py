"""In CI, the optional pieces must be there: their tests skip elsewhere, and a skip must not
pass for a success where the install step is supposed to provide them."""

from __future__ import annotations

import importlib.util
import os

import pytest

from tests.browser import find_chromium
from tests.object_servers import find_binary

pytestmark = pytest.mark.skipif(not os.environ.get("CI"), reason="checks the CI install only")


@pytest.mark.parametrize("module", ["torch", "diffusers", "transformers", "playwright"])
def test_optional_packages_are_installed(module):
    assert importlib.util.find_spec(module) is not None, f"{module} missing: see .ci/run"


def test_chromium_is_installed():
    assert find_chromium(), "Debian's chromium is missing: see .ci/run"


@pytest.mark.parametrize("binary", ["azurite-blob", "s3rver"])
def test_object_storage_servers_are_installed(binary):
    assert find_binary(binary), f"{binary} missing: see the npm block in .ci/run"
