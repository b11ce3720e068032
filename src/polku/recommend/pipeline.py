"""Training run: evaluate on a held-out split, train on everything, publish if not worse.

Used by the scheduled TrainFunction and by ``polku recommend train``."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass

from polku.recommend.evaluate import evaluate
from polku.recommend.interactions import Interactions
from polku.recommend.model_store import ModelRefused, ModelStore, Pointer, new_version
from polku.recommend.training import TrainingConfig, train

EVAL_USERS = 2000


@dataclass
class TrainingOutcome:
    version: str
    published: bool
    reason: str
    manifest: dict
    current: str | None  # the current version after the run

    def as_dict(self) -> dict:
        return {"version": self.version, "published": self.published, "reason": self.reason,
                "current": self.current, "manifest": self.manifest}


def holdout_figures(inter: Interactions, config: TrainingConfig, k: int = 10) -> dict:
    """Polku and popularity on the last basket of each customer (new model's quality gate)."""
    report = evaluate(inter, "last-basket", k=k, config=config, models=("polku", "popularity"),
                      max_users=EVAL_USERS, latency_queries=200)
    by = {r["model"]: r for r in report["results"]}
    out = {key: round(v, 5) for key, v in by.get("polku", {}).items() if "@" in key or key == "coverage"}
    out["users"] = report["split"]["users"]
    if "popularity" in by:
        out[f"popularity_hr@{k}"] = round(by["popularity"][f"hr@{k}"], 5)
    out.update({key: round(v, 5) for key, v in report.get("index", {}).items() if isinstance(v, float)})
    return out


def run_training(inter: Interactions, store: ModelStore, now_iso: str, catalog: dict[str, dict] | None = None,
                 config: TrainingConfig = TrainingConfig(), force: bool = False) -> TrainingOutcome:
    started = time.perf_counter()
    version = new_version(now_iso)
    try:
        figures = holdout_figures(inter, config)
    except Exception as exc:  # too little data to hold anything out: publish without figures
        figures = {"skipped": f"{type(exc).__name__}: {exc}"}
    model = train(inter, config, catalog=catalog, manifest={"version": version, "trained_at": now_iso})
    model.manifest["evaluation"] = figures
    model.manifest["training_seconds"] = round(time.perf_counter() - started, 3)
    with tempfile.TemporaryDirectory() as tmp:
        model.save(tmp)
        try:
            pointer: Pointer = store.publish(tmp, force=force)
        except ModelRefused as exc:
            current = store.current()
            return TrainingOutcome(version, False, str(exc), model.manifest, current.version if current else None)
    return TrainingOutcome(version, True, "published", model.manifest, pointer.version)
