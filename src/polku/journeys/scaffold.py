"""``polku journeys new NAME --from EXISTING``: a new journey from an existing one.

Writes the three things a journey is made of, and nothing else: ``statemachines/NAME.asl.json``
(the existing definition, its Send steps rendering the new journey's templates), the registry
entry (the existing one's trigger, goal, exit, re-entry and split, a description to rewrite and
``active: false`` so it starts no runs until its trigger is edited and it is switched on) and
``templates/messages/NAME/`` (a copy of the existing journey's messages). ``polku journeys lint``
accepts the result and ``simulate`` runs it; ``polku journeys publish NAME`` deploys it.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from polku.journeys import registry as registry_mod


class ScaffoldError(ValueError):
    """The new journey cannot be made as asked (the message names what is in the way)."""


@dataclass(frozen=True)
class Scaffolded:
    definition: Path
    registry: Path
    templates: Path | None  # None: the existing journey's Send steps use no template folder of its name


def _retarget_templates(node, old: str, new: str):
    """Send steps' ``template`` parameters that name ``old`` name ``new`` instead."""
    if isinstance(node, dict):
        return {k: (new if k == "template" and v == old else _retarget_templates(v, old, new)) for k, v in node.items()}
    if isinstance(node, list):
        return [_retarget_templates(v, old, new) for v in node]
    return node


def new_journey(name: str, source: str, statemachines: Path, templates: Path) -> Scaffolded:
    statemachines, templates = Path(statemachines), Path(templates)
    reg_path = statemachines / "registry.yaml"
    reg = registry_mod.load(reg_path)
    existing = reg.get(source)
    if name in reg.journeys:
        raise ScaffoldError(f"journey {name!r} is already in {reg_path}")
    raw_all = yaml.safe_load(reg_path.read_text(encoding="utf-8"))
    entry = dict(raw_all["journeys"][source])
    entry.pop("file", None)
    entry.pop("state_machine", None)
    entry["description"] = f"New journey from {source}: {existing.description}"
    entry["active"] = False
    registry_mod.parse_journey(name, entry)  # the name and entry are valid before anything is written
    target = statemachines / f"{name}.asl.json"
    if target.exists():
        raise ScaffoldError(f"{target} already exists")
    sm = name.replace("_", "-")
    if reg.by_state_machine(sm):
        raise ScaffoldError(f"state machine polku-<stage>-{sm} is already {reg.by_state_machine(sm).name}'s")

    source_templates = templates / "messages" / source
    new_templates = templates / "messages" / name
    if source_templates.is_dir() and new_templates.exists():
        raise ScaffoldError(f"{new_templates} already exists")

    definition = json.loads((statemachines / existing.file).read_text(encoding="utf-8"))
    if source_templates.is_dir():
        definition = _retarget_templates(definition, source, name)
    definition["Comment"] = f"{name} (from {source}). " + str(definition.get("Comment", ""))
    block = yaml.safe_dump({name: entry}, sort_keys=False, allow_unicode=True, width=100)
    text = reg_path.read_text(encoding="utf-8").rstrip("\n") + "\n\n"
    text += "".join(f"  {line}\n" if line else "\n" for line in block.splitlines())
    if (yaml.safe_load(text) or {}).get("journeys", {}).get(name) != entry:  # journeys: must be the file's last key
        raise ScaffoldError(f"{reg_path}: cannot append to its journeys: mapping; add the entry by hand")

    target.write_text(json.dumps(definition, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    copied = None
    if source_templates.is_dir():
        shutil.copytree(source_templates, new_templates)
        copied = new_templates
    reg_path.write_text(text, encoding="utf-8")
    return Scaffolded(target, reg_path, copied)
