import os
import shutil

import pytest


@pytest.fixture(scope="module")
def tesseract():
    if shutil.which("tesseract") is None:
        if os.environ.get("CI"):
            pytest.fail("tesseract is missing; .ci/run installs Debian's tesseract-ocr")
        pytest.skip("tesseract is not installed (apt-get install tesseract-ocr)")
