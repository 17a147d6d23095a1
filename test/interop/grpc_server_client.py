"""A gRPC client we did not write (Debian's python3-grpcio) calling the
mesh's gRPC server, for the interop test. One unary call with raw bytes
(JSON in, JSON out), so no generated code is needed:

  grpc_server_client.py TARGET METHOD ROOT_PEM [KEY_PEM CERT_PEM] [--plaintext]

TARGET is host:port, METHOD a full path (/test.Greeter/Hello). The server
is verified by chain to ROOT_PEM and by the DNS name GRPC_SERVER_NAME
(gRPC's C core checks DNS names only, never a SPIFFE URI). Prints one JSON line: {"code": "OK",
"reply": ...} or {"code": "PERMISSION_DENIED", "details": "..."}.
"""
import json
import os
import sys

import grpc


def main():
    target, method = sys.argv[1], sys.argv[2]
    identity = lambda b: b
    if "--plaintext" in sys.argv:
        channel = grpc.insecure_channel(target)
    else:
        root = open(sys.argv[3], "rb").read()
        key = open(sys.argv[4], "rb").read() if len(sys.argv) > 5 else None
        cert = open(sys.argv[5], "rb").read() if len(sys.argv) > 5 else None
        creds = grpc.ssl_channel_credentials(root_certificates=root, private_key=key, certificate_chain=cert)
        options = [("grpc.ssl_target_name_override", os.environ["GRPC_SERVER_NAME"])]
        channel = grpc.secure_channel(target, creds, options=options)
    call = channel.unary_unary(method, request_serializer=identity, response_deserializer=identity)
    try:
        reply = call(json.dumps({"from": "python"}).encode(), timeout=10, metadata=[("x-client", "python-grpcio")])
        print(json.dumps({"code": "OK", "reply": json.loads(reply.decode())}))
    except grpc.RpcError as err:
        print(json.dumps({"code": err.code().name, "details": err.details()}))
    channel.close()


main()
