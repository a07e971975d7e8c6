"""The JSON Schemas of the leaderboard's files, generated from its pydantic models.

``python -m leaderboard.json_schema`` rewrites them beside this module; a test checks they are up to date.
"""

from __future__ import annotations

import json
from pathlib import Path

from leaderboard.layout import COLUMN_FIELDS
from leaderboard.schema import ExampleValues, Leaderboard
from probe_common.atomic import write_text

HERE = Path(__file__).parent
# File name -> the model of the file it describes: the board, and one per-example file.
SCHEMA_FILES = {"leaderboard.schema.json": Leaderboard, "leaderboard-examples.schema.json": ExampleValues}


def json_schemas() -> dict[str, str]:
    """Each schema file's text, as it should be on disk."""
    texts = {}
    for name, model in SCHEMA_FILES.items():
        # Serialization mode: the fields a file holds (a result's per_example and extra are not in the board).
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                  **model.model_json_schema(mode="serialization")}
        # Fields that are None are left out of the files, but the markers that make a file ours never are.
        schema["required"] = sorted({"format", "schema_version", *schema.get("required", [])})
        if model is Leaderboard:
            _with_columns(schema)
        texts[name] = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    return texts


def _with_columns(schema: dict) -> None:
    """The board as laid out in its file (leaderboard.layout): fields results share are written once under
    "columns", so a result in the file may lack them."""
    result = schema["$defs"]["TaskResult"]
    result["required"] = [name for name in result["required"] if name not in COLUMN_FIELDS]
    shared = {name: result["properties"][name] for name in COLUMN_FIELDS}
    schema["properties"]["columns"] = {
        "title": "Columns", "type": "object",
        "description": 'Per "task/dataset": result fields that its results share unless they give their own.',
        "additionalProperties": {"type": "object", "properties": shared, "additionalProperties": False},
    }


def write_json_schemas(folder: Path = HERE) -> list[Path]:
    paths = []
    for name, text in json_schemas().items():
        write_text(folder / name, text)
        paths.append(folder / name)
    return paths


if __name__ == "__main__":
    for path in write_json_schemas():
        print(f"wrote {path}")
