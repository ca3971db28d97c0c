#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/<target>/ (run it after changing a target's
input layout). frame_decoder and resp_parser read their input through libFuzzer's
FuzzedDataProvider: bytes from the front, control integers from the back; `Layout` builds
inputs the same way, so each seed is a realistic stream cut into chosen pieces."""

import pathlib
import struct

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"


class Layout:
    """Emulates FuzzedDataProvider in reverse: front() appends bytes, integer() a value."""

    def __init__(self):
        self.front = bytearray()
        self.back = []  # in the order they are consumed (from the last byte backwards)

    def bytes(self, data):
        self.front += data

    def integer(self, value, lo, hi):
        span = hi - lo
        assert 0 <= value - lo <= span
        size = 0
        while size < 8 and (span >> (8 * size)) > 0:
            size += 1
        v = value - lo
        self.back += list(v.to_bytes(size, "big")) if size else []

    def boolean(self, value):
        self.integer(1 if value else 0, 0, 255)

    def data(self):
        return bytes(self.front) + bytes(reversed(self.back))


def frame(body):
    body = body.encode() if isinstance(body, str) else body
    return struct.pack(">I", len(body)) + body


def cut(stream, pieces):
    """`stream` cut into pieces of the given sizes; the rest goes in one last piece."""
    cuts, pos = [], 0
    for n in pieces:
        cuts.append(stream[pos:pos + n])
        pos += n
    if pos < len(stream) or not cuts:
        cuts.append(stream[pos:])
    return cuts


def frame_decoder_seed(stream, pieces, limit=None):
    """`pieces`: sizes to cut `stream` into (the rest goes in one last piece)."""
    out = Layout()
    out.boolean(limit is None)
    if limit is not None:
        out.integer(limit, 1, 300)
    cuts = cut(stream, pieces)
    for i, piece in enumerate(cuts):
        out.integer(len(piece), 0, 512)
        out.bytes(piece)
        how = i % 3  # feed, exact prepare/commit, prepare with room to spare
        out.integer(how, 0, 3)
        if how >= 2:
            out.integer(17, 0, 64)
        out.boolean(i % 2 == 1)  # shrink now and then
    return out.data()


def resp_seed(stream, pieces, limits=None):
    """`limits`: (bulk, array, depth, line) for tight limits, None for the defaults."""
    out = Layout()
    out.boolean(limits is not None)
    if limits is not None:
        bulk, array, depth, line = limits
        out.integer(bulk, 0, 64)
        out.integer(array, 0, 16)
        out.integer(depth, 0, 4)
        out.integer(line, 0, 64)
    cuts = cut(stream, pieces)
    for i, piece in enumerate(cuts):
        out.integer(len(piece), 0, 512)
        out.bytes(piece)
        out.boolean(i % 2 == 0)
    return out.data()


# Every request example of PROTOCOL.md, then edge cases of the envelope and the fields.
REQUESTS = {
    "reg": '{"msgid":3,"name":"alice","pwd":"secret"}',
    "login_id": '{"msgid":1,"id":17,"pwd":"secret"}',
    "login_name": '{"msgid":1,"name":"alice","pwd":"secret"}',
    "one_chat": '{"msgid":5,"to":3,"msg":"hi","cid":"c1"}',
    "add_friend": '{"msgid":6,"friendid":3}',
    "create_group": '{"msgid":8,"groupname":"dev","groupdesc":"team"}',
    "add_group": '{"msgid":10,"groupid":1}',
    "group_chat": '{"msgid":12,"groupid":1,"msg":"hello all"}',
    "loginout": '{"msgid":13}',
    "ping": '{"msgid":15}',
    "ping_cid_int": '{"msgid":15,"cid":18446744073709551615}',
    "login_both": '{"msgid":1,"id":17,"name":"alice","pwd":"secret"}',
    "login_neither": '{"msgid":1,"pwd":"secret"}',
    "reg_control": '{"msgid":3,"name":"a\\u0085b","pwd":"x"}',
    "reg_utf8": '{"msgid":3,"name":"\u00e9t\u00e9 \u4e2d\u6587","pwd":"p"}',
    "chat_ignored_fields": '{"msgid":5,"to":3,"msg":"hi","id":99,"name":"mallory","time":1,"from":2}',
    "chat_bad_ids": '{"msgid":5,"to":"3","msg":"hi"}',
    "chat_float_id": '{"msgid":12,"groupid":15.0,"msg":"x"}',
    "chat_negative": '{"msgid":6,"friendid":-1,"cid":""}',
    "cid_too_long": '{"msgid":15,"cid":"' + "c" * 65 + '"}',
    "cid_bad_type": '{"msgid":13,"cid":[1,{"a":null}]}',
    "unknown_msgid": '{"msgid":17,"cid":"x"}',
    "msgid_string": '{"msgid":"1"}',
    "msgid_huge": '{"msgid":9223372036854775808}',
    "not_object": '[1,2,3]',
    "duplicate_keys": '{"msgid":5,"to":3,"to":4,"msg":"a","msg":"b"}',
    "groupdesc_null": '{"msgid":8,"groupname":"g","groupdesc":null}',
    "nested": '{"msgid":15,"x":[[[[{"y":[true,false,null,1e308,-0.0]}]]]]}',
    "escapes": '{"msgid":5,"to":1,"msg":"\\ud83d\\ude00\\n\\t\\"\\\\\\/"}',
}

FRAMES = [REQUESTS[k] for k in ("ping", "login_id", "one_chat", "group_chat", "reg")]

RESP = {
    "simple": b"+OK\r\n",
    "error": b"-ERR unknown command 'FOO'\r\n",
    "integer": b":1000\r\n:-42\r\n",
    "bulk": b"$5\r\nhello\r\n",
    "bulk_empty": b"$0\r\n\r\n",
    "bulk_binary": b"$6\r\na\r\nb\x00c\r\n",
    "null_bulk": b"$-1\r\n",
    "null_array": b"*-1\r\n",
    "empty_array": b"*0\r\n",
    "message": b"*3\r\n$7\r\nmessage\r\n$7\r\nchat:n1\r\n$5\r\nhello\r\n",
    "subscribe": b"*3\r\n$9\r\nsubscribe\r\n$7\r\nchat:n1\r\n:1\r\n",
    "nested": b"*2\r\n*2\r\n:1\r\n$1\r\na\r\n*1\r\n*0\r\n",
    "mixed": b"*5\r\n+OK\r\n-ERR x\r\n:7\r\n$-1\r\n*-1\r\n",
    "pipeline": b"+OK\r\n:1\r\n$3\r\nfoo\r\n*1\r\n$3\r\nbar\r\n-WRONGTYPE\r\n",
    "truncated": b"*2\r\n$5\r\nhel",
    "bad_terminator": b"$3\r\nfooXX",
    "bad_type": b"%1\r\n",
    "bad_integer": b":12a\r\n",
    "bare_lf": b"+OK\n",
}


def write(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def main():
    for name, body in REQUESTS.items():
        write("requests", name, body.encode())

    all_frames = b"".join(frame(f) for f in FRAMES)
    write("frame_decoder", "one_frame", frame_decoder_seed(frame(FRAMES[0]), []))
    write("frame_decoder", "many_frames_one_read", frame_decoder_seed(all_frames, []))
    write("frame_decoder", "split_in_header", frame_decoder_seed(all_frames, [2, 1, 30]))
    write("frame_decoder", "byte_by_byte", frame_decoder_seed(frame(FRAMES[1])[:24], [1] * 23))
    write("frame_decoder", "split_everywhere", frame_decoder_seed(all_frames, [3, 5, 7, 11, 13, 17, 19, 23]))
    write("frame_decoder", "zero_length", frame_decoder_seed(frame(FRAMES[0]) + b"\0\0\0\0", []))
    write("frame_decoder", "over_limit", frame_decoder_seed(frame("x" * 40) + frame(FRAMES[0]), [10], limit=32))
    write("frame_decoder", "exactly_the_limit", frame_decoder_seed(frame("y" * 32) + frame("z" * 33), [], limit=32))
    write("frame_decoder", "huge_length", frame_decoder_seed(b"\xff\xff\xff\xff" + b"{}", []))
    write("frame_decoder", "partial_tail", frame_decoder_seed(all_frames + frame(FRAMES[2])[:9], [50]))
    write("frame_decoder", "tiny_limit", frame_decoder_seed(frame("a") + frame("bc") + frame("d"), [1, 1], limit=1))
    write("frame_decoder", "after_bad_more_bytes", frame_decoder_seed(b"\0\0\0\0" + all_frames, [4, 20]))

    for name, stream in RESP.items():
        write("resp_parser", name, resp_seed(stream, []))
    write("resp_parser", "message_split", resp_seed(RESP["message"], [1, 2, 3, 5, 8]))
    write("resp_parser", "pipeline_split", resp_seed(RESP["pipeline"], [4, 4, 4]))
    write("resp_parser", "tight_nested", resp_seed(RESP["nested"], [6], limits=(4, 2, 2, 8)))
    write("resp_parser", "tight_too_deep", resp_seed(b"*1\r\n*1\r\n*1\r\n:1\r\n", [], limits=(4, 2, 2, 8)))
    write("resp_parser", "tight_long_line", resp_seed(b"+" + b"s" * 20 + b"\r\n", [5], limits=(4, 2, 2, 8)))
    write("resp_parser", "tight_long_bulk", resp_seed(b"$9\r\n123456789\r\n", [], limits=(8, 2, 2, 8)))


if __name__ == "__main__":
    main()
