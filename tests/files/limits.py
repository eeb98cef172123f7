"""Limits the file tests configure their platforms with."""

#: DatadiveService.max_upload_bytes of the ``s3_platform`` (tests/files/conftest.py)
MAX_UPLOAD = 20 << 20
