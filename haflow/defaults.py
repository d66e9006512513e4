"""Defaults shared by the CLI and the library, in a module that imports nothing (keeps `haflow --help` fast)."""

from pathlib import Path

CONFIG_DIR = Path("environments")
OUT_DIR = Path("cdktf.out")
