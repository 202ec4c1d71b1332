"""A minimal writer of MS-CFB compound files (version 3, 512-byte sectors).

Enough for a vbaProject.bin: a root storage holding streams and storages, any
size. Streams under 4096 bytes live in the mini stream (64-byte sectors, the
mini FAT), larger ones in regular sectors (the FAT); the FAT fits the 109
entries of the header's DIFAT (files up to ~6.8 MB). Siblings form a binary
search tree ordered as MS-CFB 2.6.4 requires (shorter name first, then the
upper-cased UTF-16 names); every node is black, which the specification
names as the simplest valid colouring. Timestamps and CLSIDs are zero, so the
same content always gives the same bytes.

olefile (used by oletools) reads compound files but cannot create them;
this module is the writing half, checked against olefile in the tests.
"""

from __future__ import annotations

import struct

from ..records import dataclass, field

SECTOR = 512
MINI_SECTOR = 64
MINI_CUTOFF = 4096
FREESECT, ENDOFCHAIN, FATSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF
STORAGE, STREAM, ROOT = 1, 2, 5


@dataclass
class Storage:
    """A storage: named children, each a Storage or the bytes of a stream."""

    children: dict[str, "Storage | bytes"] = field(default_factory=dict)

    def add(self, path: str, data: "bytes | Storage") -> None:
        head, _, rest = path.partition("/")
        if rest:
            node = self.children.setdefault(head, Storage())
            if not isinstance(node, Storage):
                raise ValueError(f"{head} is a stream, not a storage")
            node.add(rest, data)
        else:
            self.children[head] = data


def _order_key(name: str) -> tuple[int, str]:
    return (len(name), name.upper())


@dataclass
class _Entry:
    name: str
    kind: int
    data: bytes = b""
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    start: int = ENDOFCHAIN
    size: int = 0

    def pack(self) -> bytes:
        encoded = self.name.encode("utf-16-le")
        if len(encoded) > 62:
            raise ValueError(f"name too long for a compound file: {self.name}")
        name = encoded + b"\x00\x00"
        return struct.pack(
            "<64sHBBIII16sIQQIQ",
            name, len(name), self.kind, 1,  # colour: black
            self.left, self.right, self.child,
            b"\x00" * 16, 0, 0, 0,  # CLSID, state bits, creation and modification time
            self.start, self.size,
        )


def _flatten(root: Storage) -> list[_Entry]:
    entries = [_Entry("Root Entry", ROOT)]

    def add_children(parent: int, storage: Storage) -> None:
        indices = []
        for name, node in sorted(storage.children.items(), key=lambda kv: _order_key(kv[0])):
            index = len(entries)
            if isinstance(node, Storage):
                entries.append(_Entry(name, STORAGE))
                add_children(index, node)
            else:
                entries.append(_Entry(name, STREAM, bytes(node), size=len(node)))
            indices.append(index)
        entries[parent].child = _balanced(indices)

    def _balanced(indices: list[int]) -> int:
        if not indices:
            return NOSTREAM
        mid = len(indices) // 2
        node = indices[mid]
        entries[node].left = _balanced(indices[:mid])
        entries[node].right = _balanced(indices[mid + 1:])
        return node

    add_children(0, root)
    return entries


def _sectors(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size].ljust(size, b"\x00") for i in range(0, len(data), size)]


_EMPTY_ENTRY = struct.pack(
    "<64sHBBIII16sIQQIQ", b"", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM, b"\x00" * 16, 0, 0, 0, 0, 0
)


def _directory(entries: list[_Entry]) -> bytes:
    """Directory entries, padded with empty entries to whole sectors (4 a sector)."""
    return b"".join(e.pack() for e in entries) + _EMPTY_ENTRY * (-len(entries) % 4)


def _pad(data: bytes, size: int) -> bytes:
    return data.ljust(-(-len(data) // size) * size, b"\x00")


def write(root: Storage) -> bytes:
    """The compound file holding `root`, as bytes."""
    entries = _flatten(root)
    streams = [e for e in entries if e.kind == STREAM]

    # small streams go to the mini stream (the root entry's own stream), chained in the mini FAT
    mini_stream = bytearray()
    mini_fat: list[int] = []
    for e in streams:
        if 0 < e.size < MINI_CUTOFF:
            e.start = len(mini_fat)
            count = -(-e.size // MINI_SECTOR)
            mini_fat += [e.start + i + 1 for i in range(count - 1)] + [ENDOFCHAIN]
            mini_stream += _pad(e.data, MINI_SECTOR)
    big = [e for e in streams if e.size >= MINI_CUTOFF]

    # regular sectors in this order: directory, mini FAT, mini stream, large streams; then the FAT
    dir_sectors = len(_directory(entries)) // SECTOR
    free = -len(mini_fat) % (SECTOR // 4)  # the rest of the last mini FAT sector is FREESECT
    mini_fat_bytes = struct.pack(f"<{len(mini_fat) + free}I", *mini_fat, *([FREESECT] * free)) if mini_fat else b""
    chains = [b"\x00" * (dir_sectors * SECTOR)]  # the directory: packed once the start sectors are known
    if mini_fat:
        chains.append(mini_fat_bytes)
    if mini_stream:
        chains.append(bytes(mini_stream))
    chains += [e.data for e in big]

    fat: list[int] = []
    starts: list[int] = []
    for data in chains:
        count = -(-len(data) // SECTOR)
        starts.append(len(fat))
        fat += [len(fat) + j + 1 for j in range(count - 1)] + [ENDOFCHAIN]
    fat_sectors = 1
    while len(fat) + fat_sectors > fat_sectors * (SECTOR // 4):  # the FAT maps its own sectors too
        fat_sectors += 1
    if fat_sectors > 109:
        raise ValueError("compound file too large for this writer (more than 109 FAT sectors)")
    fat_first = len(fat)
    fat += [FATSECT] * fat_sectors
    fat += [FREESECT] * (fat_sectors * (SECTOR // 4) - len(fat))

    position = iter(starts)
    dir_start = next(position)
    mini_fat_start = next(position) if mini_fat else ENDOFCHAIN
    if mini_stream:
        entries[0].start, entries[0].size = next(position), len(mini_stream)
    for e in big:
        e.start = next(position)
    chains[0] = _directory(entries)

    difat = [fat_first + i for i in range(fat_sectors)] + [FREESECT] * (109 - fat_sectors)
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        bytes.fromhex("D0CF11E0A1B11AE1"), b"\x00" * 16,
        0x003E, 0x0003, 0xFFFE, 9, 6, b"\x00" * 6,
        0,  # number of directory sectors: always 0 in version 3
        fat_sectors, dir_start,
        0,  # transaction signature
        MINI_CUTOFF, mini_fat_start, len(mini_fat_bytes) // SECTOR,
        ENDOFCHAIN, 0,  # no DIFAT sectors
    ) + struct.pack("<109I", *difat)
    body = b"".join(_pad(data, SECTOR) for data in chains)
    return header + body + struct.pack(f"<{len(fat)}I", *fat)
