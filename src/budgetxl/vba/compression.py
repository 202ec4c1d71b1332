"""MS-OVBA 2.4.1 compression: the run-length/LZ77 scheme of the `dir` and
module streams of a VBA project.

A CompressedContainer is the signature byte 0x01 and chunks of at most 4096
decompressed bytes. A chunk header (2 bytes, little-endian) holds the chunk
size minus 3 (bits 0–11), the signature 0b011 (bits 12–14) and whether the
chunk is compressed (bit 15). A compressed chunk is a series of token
sequences: one flag byte, then 8 tokens, each a literal byte (flag bit 0) or a
2-byte CopyToken (flag bit 1) whose offset/length split depends on how far
into the chunk the decompression is (2.4.1.3.19.1 CopyToken Help).

Deterministic: the same input always gives the same bytes.
"""

from __future__ import annotations

import struct

CHUNK = 4096
MIN_MATCH = 3
MAX_CANDIDATES = 64  # most recent earlier positions tried per match: bounds the time, costs little ratio


def _copy_token_help(difference: int) -> tuple[int, int, int]:
    """(length_mask, bit_count, maximum_length) of MS-OVBA 2.4.1.3.19.1 CopyToken Help."""
    bit_count = max((difference - 1).bit_length(), 4)
    length_mask = 0xFFFF >> bit_count
    return length_mask, bit_count, length_mask + 3


def _compress_chunk(data: bytes) -> bytes:
    out = bytearray()
    pos = 0
    end = len(data)
    heads: dict[bytes, list[int]] = {}  # 3-byte prefix -> positions (ascending)
    while pos < end:
        flag_index = len(out)
        out.append(0)
        flags = 0
        for bit in range(8):
            if pos >= end:
                break
            best_len, best_off = 0, 0
            if pos >= 1 and pos + MIN_MATCH <= end:
                _, bit_count, max_len = _copy_token_help(pos)
                max_len = min(max_len, end - pos)
                for cand in reversed(heads.get(data[pos:pos + MIN_MATCH], ())[-MAX_CANDIDATES:]):
                    length = MIN_MATCH
                    while length < max_len and data[cand + length] == data[pos + length]:
                        length += 1
                    if length > best_len:
                        best_len, best_off = length, pos - cand
                        if length == max_len:
                            break
            if best_len >= MIN_MATCH:
                _, bit_count, _ = _copy_token_help(pos)
                token = ((best_off - 1) << (16 - bit_count)) | (best_len - 3)
                out += struct.pack("<H", token)
                flags |= 1 << bit
                step = best_len
            else:
                out.append(data[pos])
                step = 1
            for p in range(pos, pos + step):
                if p + MIN_MATCH <= end:
                    heads.setdefault(data[p:p + MIN_MATCH], []).append(p)
            pos += step
        out[flag_index] = flags
    return bytes(out)


def compress(data: bytes) -> bytes:
    """A CompressedContainer holding `data`."""
    out = bytearray(b"\x01")
    for start in range(0, len(data), CHUNK):
        raw = data[start:start + CHUNK]
        body = _compress_chunk(raw)
        if len(body) > CHUNK:  # incompressible: a raw chunk, always 4096 bytes (2.4.1.3.10)
            if len(raw) < CHUNK:
                raise ValueError("an incompressible last chunk cannot be stored (MS-OVBA raw chunks are 4096 bytes)")
            out += struct.pack("<H", (CHUNK + 2 - 3) | 0x3000) + raw
        else:
            out += struct.pack("<H", (len(body) + 2 - 3) | 0x3000 | 0x8000) + body
    return bytes(out)


def decompress(container: bytes) -> bytes:
    """The inverse of `compress` (2.4.1.3.1), for our own round-trip checks."""
    if not container or container[0] != 0x01:
        raise ValueError("not a CompressedContainer (signature byte is not 0x01)")
    out = bytearray()
    pos = 1
    while pos < len(container):
        header = struct.unpack_from("<H", container, pos)[0]
        size = (header & 0x0FFF) + 3
        if (header >> 12) & 0b111 != 0b011:
            raise ValueError(f"bad chunk signature at byte {pos}")
        chunk_end = min(pos + size, len(container))
        pos += 2
        start = len(out)
        if not header & 0x8000:
            out += container[pos:pos + CHUNK]
            pos += CHUNK
            continue
        while pos < chunk_end:
            flags = container[pos]
            pos += 1
            for bit in range(8):
                if pos >= chunk_end:
                    break
                if not flags & (1 << bit):
                    out.append(container[pos])
                    pos += 1
                    continue
                token = struct.unpack_from("<H", container, pos)[0]
                pos += 2
                length_mask, bit_count, _ = _copy_token_help(len(out) - start)
                length = (token & length_mask) + 3
                offset = (token >> (16 - bit_count)) + 1
                for _ in range(length):
                    out.append(out[-offset])
    return bytes(out)
