"""An xDS-enabled gRPC server we did not write (Debian's python3-grpcio,
gRFC A36 with A41's RBAC): it serves /interop.Echo/Call on the address in
argv[1] (ip:port) with `grpc.server(xds=True)`, so it takes its inbound
listener, and the RBAC policy in it, from the control plane named by
GRPC_XDS_BOOTSTRAP. It prints "started" once the port is added; the test
then polls calls until the server serves.

The reply is encoded by hand (field 1 = the server name), so no generated
code is needed.
"""
import sys
from concurrent import futures

import grpc

NAME = b"python-xds-server"


def call(_request, _context):
    return b"\x0a" + bytes([len(NAME)]) + NAME


def main():
    handler = grpc.method_handlers_generic_handler(
        "interop.Echo",
        {"Call": grpc.unary_unary_rpc_method_handler(call, request_deserializer=None, response_serializer=None)},
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), handlers=[handler], xds=True)
    server.add_secure_port(sys.argv[1], grpc.xds_server_credentials(grpc.insecure_server_credentials()))
    server.start()
    print("started", flush=True)
    try:
        while sys.stdin.readline():
            pass
    finally:
        server.stop(0)


if __name__ == "__main__":
    main()
