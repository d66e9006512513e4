"""haflow schema: write the JSON Schema of an environment file (environments/schema.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from haflow.commands.common import EXIT_OK
from haflow.config.model import Environment


def environment_schema() -> dict[str, Any]:
    schema = Environment.model_json_schema()
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    schema["title"] = "haflow environment (base.yaml deep-merged with <env>.yaml)"
    return schema


def render_schema() -> str:
    return json.dumps(environment_schema(), indent=2, sort_keys=True) + "\n"


def run(out: Path) -> int:
    text = render_schema()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(f".{out.name}.tmp")
    staging.write_text(text, encoding="utf-8")
    staging.replace(out)
    print(f"wrote {out}")
    return EXIT_OK
