"""What a text file's bytes say before it is parsed: a compression its name does not tell, and the
first byte that is not text of its encoding, with its line, so a damaged file is one line naming
where it breaks instead of a parser's error about garbled text."""
import codecs

MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"PK\x03\x04": "zip", b"\xfd7zXZ\x00": "xz", b"\x28\xb5\x2f\xfd": "zstd"}
CHUNK_BYTES = 1 << 20


def compression_of(path):
    """'gzip', 'bzip2', 'zip', 'xz' or 'zstd' when the file starts like one, else None (OSError unreadable)."""
    with open(path, "rb") as file:
        head = file.read(6)
    return next((name for magic, name in MAGIC.items() if head.startswith(magic)), None)


def first_undecodable(read, codec):
    """(byte offset, line) of the first byte that does not decode as codec in the stream read(n) gives,
    or (None, None) when it all decodes."""
    decoder = codecs.getincrementaldecoder(codec)()
    consumed = lines = 0
    while True:
        chunk = read(CHUNK_BYTES)
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as err:
            offset = consumed - pending + err.start
            return offset, lines + chunk[:max(0, offset - consumed)].count(b"\n") + 1
        if not chunk:
            return None, None
        consumed += len(chunk)
        lines += chunk.count(b"\n")
