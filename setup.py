"""Packaging detail pyproject.toml cannot say: the top-level resources/ and weights/ folders
ship inside the package (inpaint_studio/resources, inpaint_studio/weights) of a wheel."""
from setuptools import find_packages, setup

DATA = {"inpaint_studio.resources": "resources", "inpaint_studio.weights": "weights"}

setup(
    packages=find_packages(include=["inpaint_studio*"]) + list(DATA),
    package_dir=DATA,
    package_data={name: ["*"] for name in DATA},
)
