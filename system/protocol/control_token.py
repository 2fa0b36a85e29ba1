"""The control token: a shared secret in a file only its owner can read.

The orchestrator (web mode) creates the file if it does not exist; the
webserver reads it. The token never appears in argv, the environment, logs or
spans, only in this file and in the control channel's hello frame.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

DEFAULT_TOKEN_FILE = Path("output") / ".control-token"


class TokenFileError(ValueError):
    """The token file is missing, unreadable, empty or readable by others."""


def read_token(path: Path) -> str:
    try:
        info = path.stat()
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError as exc:
        raise TokenFileError(f"control token file {path} does not exist") from exc
    except OSError as exc:
        raise TokenFileError(f"cannot read control token file {path}: {exc.strerror}") from exc
    except UnicodeDecodeError:
        raise TokenFileError(
            f"control token file {path} is not UTF-8 text; delete it (a new one is made)"
        ) from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise TokenFileError(
            f"control token file {path} is accessible to other users; chmod 600 it"
        )
    if len(text) < 16:
        raise TokenFileError(f"control token file {path} holds no token (16+ characters)")
    return text


def ensure_token(path: Path) -> str:
    """Read the token, creating the file (mode 600) with a fresh token if missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return read_token(path)
        except OSError as exc:
            raise TokenFileError(
                f"cannot create control token file {path}: {exc.strerror}"
            ) from exc
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secrets.token_urlsafe(32) + "\n")
    return read_token(path)
