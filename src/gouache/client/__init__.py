"""The Generate images action as a Python client: in-process, or against any Azure OpenAI image
endpoint (gouache or Azure itself).

    from gouache import generate_images
    operation = generate_images("a red running shoe on a white background", n=2, size="512x512")
    operation.to_dict()   # {"id", "created", "expires", "result": {"created", "data": [...]}, ...}
"""

from gouache.client.api import agenerate_images, generate_images
from gouache.client.errors import DownloadError, GenerationTimeout, InvalidRequest, RemoteError
from gouache.client.request import (
    DEFAULT_API_VERSION,
    DEFAULT_DEPLOYMENT,
    DEFAULT_OUT,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT_S,
    OPERATION_API_VERSIONS,
    SIZES,
)
from gouache.client.results import ImageResult, Operation, OperationResult
from gouache.client.retry import RetryPolicy

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_DEPLOYMENT",
    "DEFAULT_OUT",
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT_S",
    "OPERATION_API_VERSIONS",
    "SIZES",
    "DownloadError",
    "GenerationTimeout",
    "ImageResult",
    "InvalidRequest",
    "Operation",
    "OperationResult",
    "RemoteError",
    "RetryPolicy",
    "agenerate_images",
    "generate_images",
]
