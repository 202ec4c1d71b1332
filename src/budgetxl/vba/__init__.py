"""Writing a VBA project (vbaProject.bin) without Excel.

Why our own writer and not the `ms-ovba` package from PyPI (evaluated at
version 0.0.1): it pulls in three more single-author packages (ms-cfb,
ms-dtyp, ms-ovba-crypto), encrypts CMG/DPB/GC with `random` seeds and fills
the CFB with random bytes (no reproducible file, so the committed .xlsm could
not be compared with a rebuild), writes its intermediate streams as files into
the current directory, takes only `*.bas` files, and fixes the code page at
cp1252. The formats are small and fully specified — MS-OVBA 2.4.1 compression
(compression.py), MS-CFB version 3 (cfb.py), the PROJECT/dir/module streams
(project.py) — and every byte we write is read back in the tests by
independent readers: olefile/oletools (olevba) and LibreOffice.

What cannot be checked on Linux: Excel compiling the project. The project is
source-only (no p-code, _VBA_PROJECT version 0xFFFF), like the project of
xlwings' own quickstart_standalone.xlsm, which Excel opens and compiles.
"""

from .project import Module, build  # noqa: F401
