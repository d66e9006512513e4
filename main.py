"""Entry point of the standard cdktf CLI (cdktf.json: `python main.py`): every environment."""

from haflow.app import build_app
from haflow.config import load_environments

build_app(load_environments()).synth()
