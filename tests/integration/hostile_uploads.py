"""Uploads built to hurt the import: small on disk, huge or wide when read. Gzip ones are concatenated
gzip members (a valid gzip file, read as one stream), so that building them compresses one block."""

import gzip

MIB = 1024 * 1024


def one_long_line_gz(mib: int = 300) -> bytes:
    """A header, then one line of ``mib`` MiB: about 1 KB of gzip per MiB."""
    return gzip.compress(b"email\n") + gzip.compress(b"a" * MIB) * mib + gzip.compress(b"\n")


def short_lines_bomb_gz(mib: int = 32) -> bytes:
    """``mib`` MiB of short contact lines, inflating about 330 times."""
    line = b"contact0000001@example.com,Ada\n"
    return gzip.compress(b"email,first_name\n") + gzip.compress(line * (MIB // len(line)), 9) * mib


def wide_header(columns: int, name_bytes: int = 0, letter: str = "x") -> bytes:
    """``email`` and ``columns`` unmatched columns (padded with ``letter`` to about ``name_bytes``
    each), and one contact."""
    return wide_rows(columns, name_bytes, rows=1, letter=letter, value="")


def wide_rows(columns: int, name_bytes: int = 0, rows: int = 1, letter: str = "x", value: str = "v") -> bytes:
    """A header as ``wide_header``'s, then ``rows`` contacts with ``value`` in every other column."""
    pad = letter * max(0, (name_bytes - 6) // len(letter.encode()))
    names = [f"c{i}_{pad}" if pad else f"c{i}" for i in range(columns)]
    lines = [",".join(["email", *names])]
    lines += [",".join([f"wide{row}@example.com", *[value] * columns]) for row in range(rows)]
    return "\n".join(lines).encode() + b"\n"
