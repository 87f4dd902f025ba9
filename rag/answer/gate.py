"""Gate: the probability that the passages answer a question, from `rag.answer.evidence` features,
by a small logistic model shipped as `rag/answer/gate.json` (refit with `rag gate fit`).

The model file (version 1) holds the feature names, their mean and scale, the weights, and the
precision/recall curve of refusals measured on a cross-check split, so that a setting can ask
for a target *precision* of refusals instead of a raw threshold:

    gate = Gate.load()                      # the packaged model
    p = gate.probability(x)                 # x: evidence.features(...) -> 0..1
    gate.threshold(0.8)                     # refuse below this for refusals 80 % right
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.answer.evidence import FEATURES
from rag.errors import ConfigError

PACKAGED = Path(__file__).with_name("gate.json")
VERSION = 1


@dataclass(frozen=True)
class Gate:
    """A fitted answerability model: p(answerable | features)."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    # refusal curve on the cross-check split: (threshold, precision, recall), thresholds rising
    curve: tuple[tuple[float, float, float], ...] = ()
    trained_on: str = ""  # what it was fitted on, in words
    version: int = VERSION
    notes: dict[str, Any] = field(default_factory=dict)

    def probability(self, x: np.ndarray) -> float:
        z = (np.asarray(x, dtype=np.float64) - np.array(self.mean)) / np.array(self.scale)
        return float(1.0 / (1.0 + np.exp(-(z @ np.array(self.weights) + self.bias))))

    def threshold(self, precision: float) -> float:
        """The highest threshold whose refusals were at least `precision` right on the
        cross-check split (most refusals at that precision); 0 (never refuse) if none was."""
        if not 0 < precision <= 1:
            raise ConfigError(f"refusal_precision must be in (0, 1], not {precision}")
        ok = [t for t, p, r in self.curve if p >= precision and r > 0]
        return max(ok, default=0.0)

    def save(self, path: Path) -> Path:
        path.write_text(json.dumps(asdict(self), indent=1) + "\n")
        return path

    @classmethod
    def load(cls, path: Path | None = None, features: tuple[str, ...] = FEATURES) -> Gate:
        """The model at `path` (the packaged gate by default), fitted on `features`."""
        path = path or PACKAGED
        try:
            raw = json.loads(Path(path).read_text())
            gate = cls(
                features=tuple(raw["features"]),
                mean=tuple(raw["mean"]),
                scale=tuple(raw["scale"]),
                weights=tuple(raw["weights"]),
                bias=float(raw["bias"]),
                curve=tuple(tuple(c) for c in raw.get("curve", ())),  # type: ignore[misc]
                trained_on=str(raw.get("trained_on", "")),
                version=int(raw.get("version", 0)),
                notes=dict(raw.get("notes", {})),
            )
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ConfigError(
                f"{path}: not a gate model ({type(e).__name__}); refit it with "
                "`rag gate fit` or unset RAG_GATE"
            ) from None
        if gate.version != VERSION or gate.features != features:
            raise ConfigError(
                f"{path} was fitted on other features (version {gate.version}); refit it with "
                "`rag gate fit`"
            )
        return gate


def curve(p: np.ndarray, answerable: np.ndarray) -> list[tuple[float, float, float]]:
    """(threshold, refusal precision, refusal recall) for thresholds over the probabilities."""
    out = []
    impossible = ~answerable.astype(bool)
    total = max(int(impossible.sum()), 1)
    for t in np.unique(np.round(p, 3)):
        refused = p < t
        n = int(refused.sum())
        if n == 0:
            continue
        right = int((refused & impossible).sum())
        out.append((float(t), right / n, right / total))
    return out


def fit(
    x: np.ndarray,
    answerable: np.ndarray,
    check: np.ndarray,
    trained_on: str,
    c: float = 1.0,
    *,
    right: np.ndarray | None = None,
    features: tuple[str, ...] = FEATURES,
) -> Gate:
    """Fit p(`right`) (default: p(answerable)) on the rows where `check` is False; the refusal
    curve (refusals of answerable questions are wrong) is measured on the others."""
    from sklearn.linear_model import LogisticRegression

    train = ~check
    mean = x[train].mean(axis=0)
    scale = x[train].std(axis=0)
    scale = np.where(scale < 1e-6, 1.0, scale)
    model = LogisticRegression(C=c, max_iter=1000)
    target = answerable if right is None else right
    model.fit((x[train] - mean) / scale, target[train].astype(int))
    gate = Gate(
        features=features,
        mean=tuple(float(v) for v in mean),
        scale=tuple(float(v) for v in scale),
        weights=tuple(float(v) for v in model.coef_[0]),
        bias=float(model.intercept_[0]),
        trained_on=trained_on,
    )
    probs = np.array([gate.probability(row) for row in x[check]])
    return Gate(**{**asdict(gate), "curve": tuple(curve(probs, answerable[check]))})
