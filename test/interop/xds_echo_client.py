"""An xDS gRPC client we did not write (Debian's python3-grpcio), driven by
the interop test over stdin/stdout. It dials the target given as argv[1]
(an xds:/// URI; GRPC_XDS_BOOTSTRAP names the bootstrap file) and answers
one JSON line per command:

  calls N     make N calls, print {"counts": {server: n}, "errors": [...]}
  until S     call until 20 calls in a row reach server S (30 s at most)
  quit

The echo messages are encoded by hand (field 1 = text; the reply's field 1 is
the server name), so no generated code is needed.
"""
import json
import sys
import time

import grpc


def encode_request(text):
    data = text.encode()
    return b"\x0a" + bytes([len(data)]) + data


def decode_server(reply):
    # Field 1, wire type 2: tag 0x0a, one-byte length (names are short).
    if len(reply) < 2 or reply[0] != 0x0A:
        return ""
    return reply[2 : 2 + reply[1]].decode()


def main():
    channel = grpc.insecure_channel(sys.argv[1])
    call = channel.unary_unary(
        "/interop.Echo/Call",
        request_serializer=lambda b: b,
        response_deserializer=decode_server,
    )

    def one():
        return call(encode_request("hi"), timeout=10, wait_for_ready=True)

    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            break
        if words[0] == "calls":
            counts, errors = {}, []
            for _ in range(int(words[1])):
                try:
                    server = one()
                    counts[server] = counts.get(server, 0) + 1
                except grpc.RpcError as err:
                    errors.append(f"{err.code()}: {err.details()}")
            print(json.dumps({"counts": counts, "errors": errors}), flush=True)
        elif words[0] == "until":
            deadline, streak, last_error = time.time() + 30, 0, None
            while streak < 20 and time.time() < deadline:
                try:
                    streak = streak + 1 if one() == words[1] else 0
                except grpc.RpcError as err:
                    streak, last_error = 0, f"{err.code()}: {err.details()}"
                    time.sleep(0.1)
            print(json.dumps({"reached": streak >= 20, "error": last_error}), flush=True)
    channel.close()


if __name__ == "__main__":
    main()
