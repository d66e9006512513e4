"""haflow schema: write the JSON Schema of an environment file (environments/schema.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from haflow.commands.common import EXIT_OK
from haflow.config.model import Environment
from haflow.output import write_generated_file


def environment_schema() -> dict[str, Any]:
    schema = Environment.model_json_schema()
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    schema["title"] = "haflow environment (base.yaml deep-merged with <env>.yaml)"
    return schema


def render_schema() -> str:
    return json.dumps(environment_schema(), indent=2, sort_keys=True) + "\n"


def run(out: Path) -> int:
    write_generated_file(out, render_schema(), option="--out", default_name="schema.json", is_previous=_is_schema)
    print(f"wrote {out}")
    return EXIT_OK


def _is_schema(text: str) -> bool:
    try:
        document = json.loads(text)
    except ValueError:
        return False
    return isinstance(document, dict) and str(document.get("title", "")).startswith("haflow environment")
