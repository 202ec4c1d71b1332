"""Only the optional C accelerator lives here; everything else is in pyproject.toml.

``budgetxl._sheetscan`` is the worksheet pass of ``budgetxl.guard`` written in C
on expat. It is optional: where it cannot be built (no C compiler or no expat
headers, as on a plain Windows machine) the install goes on and the guard runs
its pure-Python pass, which counts the same things (tests/test_guard_native.py).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "budgetxl._sheetscan",
            ["src/budgetxl/_sheetscan.c"],
            libraries=["expat"],
            optional=True,
        )
    ]
)
