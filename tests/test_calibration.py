"""Platt calibration and decision thresholds on simulated labels whose true probabilities are known."""

from __future__ import annotations

import numpy as np

from model.calibration import calibrate, f1_at, tune_threshold


def calibrated_sample(size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """True probabilities of a rare-ish label, and labels drawn from them."""
    rng = np.random.default_rng(seed)
    probabilities = rng.beta(0.6, 1.4, size)
    return probabilities, (rng.random(size) < probabilities).astype(int)


def test_the_threshold_is_half_the_best_f1_and_holds_up_on_new_data() -> None:
    dev_probabilities, dev_targets = calibrated_sample(800, seed=1)
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    best = max(f1_at(dev_probabilities, dev_targets, t) for t in grid)
    threshold = tune_threshold(dev_probabilities, dev_targets)
    assert threshold == round(best / 2, 2) and threshold < 0.5

    fresh_probabilities, fresh_targets = calibrated_sample(200_000, seed=2)
    fresh_best = max(f1_at(fresh_probabilities, fresh_targets, t) for t in grid)
    assert f1_at(fresh_probabilities, fresh_targets, threshold) > fresh_best - 0.01


def test_a_label_never_seen_on_dev_keeps_the_neutral_threshold() -> None:
    assert tune_threshold(np.array([0.2, 0.9, 0.4]), np.zeros(3, dtype=int)) == 0.5


def test_platt_scaling_recovers_the_logit_transform() -> None:
    rng = np.random.default_rng(3)
    logits = rng.normal(0.0, 2.0, 20_000)
    targets = (rng.random(logits.size) < 1 / (1 + np.exp(-(0.5 * logits - 1.0)))).astype(int)
    calibration = calibrate(logits, targets)
    assert abs(calibration.scale - 0.5) < 0.05 and abs(calibration.bias + 1.0) < 0.1
    assert 0.05 <= calibration.threshold < 0.5
