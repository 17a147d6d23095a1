"""A gRPC server we did not write (Debian's python3-grpcio: C core,
BoringSSL) for the mesh client's interop test. One unary method with raw
bytes (JSON in, JSON out), so no generated code is needed:

  grpc_echo_server.py NAME [ROOT_PEM KEY_PEM CERT_PEM]

With PEM files it serves mTLS and requires a client certificate from
ROOT_PEM's CA. Prints {"port": N} when ready, then one line per call.
Each reply says who called (the client certificate's URI SANs), the
metadata it sent and the time the caller left it (grpc-timeout).
"""
import json
import sys
from concurrent import futures

import grpc


def main():
    name = sys.argv[1]
    tls = len(sys.argv) >= 5

    def echo(request, context):
        body = json.loads(request.decode())
        peer = {}
        for key, values in context.auth_context().items():
            peer[key] = [v.decode(errors="replace") for v in values]
        remaining = context.time_remaining()
        reply = {
            "replica": name,
            "text": body.get("text"),
            "peer": peer,
            "metadata": {k: v for k, v in context.invocation_metadata() if isinstance(v, str)},
            "remaining": remaining,
        }
        print(json.dumps({"call": body.get("text")}), flush=True)
        return json.dumps(reply).encode()

    identity = lambda b: b
    handler = grpc.method_handlers_generic_handler(
        "interop.Echo",
        {"Get": grpc.unary_unary_rpc_method_handler(echo, request_deserializer=identity, response_serializer=identity)},
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((handler,))
    if tls:
        root = open(sys.argv[2], "rb").read()
        key = open(sys.argv[3], "rb").read()
        cert = open(sys.argv[4], "rb").read()
        creds = grpc.ssl_server_credentials([(key, cert)], root_certificates=root, require_client_auth=True)
        port = server.add_secure_port("127.0.0.1:0", creds)
    else:
        port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(json.dumps({"port": port}), flush=True)
    server.wait_for_termination()


main()
