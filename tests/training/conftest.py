"""Fixtures for the training tests."""
import cv2
import numpy as np
import pytest


@pytest.fixture
def photo_dir(tmp_path):
    """Ten small photos with shapes and texture, no manifest (every 10th is held out)."""
    rng = np.random.default_rng(1)
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(10):
        image = cv2.resize(rng.integers(0, 255, (6, 8, 3), dtype=np.uint8), (160, 120))
        for _ in range(4):
            x, y = (int(v) for v in rng.integers(0, 140, 2))
            color = tuple(int(c) for c in rng.integers(0, 255, 3))
            cv2.rectangle(image, (x, y), (x + 30, y + 20), color, -1)
        image = np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)
        cv2.imwrite(str(folder / f"p{i}.png"), image)
    return folder
