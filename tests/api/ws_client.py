#!/usr/bin/python3
"""WebSocket peer for the gateway tests (Debian's python3-websocket).

usage: ws_client.py URL [--protocol P] MESSAGE...
Sends each MESSAGE as a text frame (binary when the agreed protocol is "binary"), reads one
answer per message, prints each answer on its own line, then closes and prints the close code.
"""
import sys

import websocket

args = sys.argv[1:]
url = args.pop(0)
protocols = None
if args and args[0] == "--protocol":
    protocols = [args[1]]
    args = args[2:]
ws = websocket.create_connection(url, timeout=10, subprotocols=protocols)
binary = ws.subprotocol == "binary"
for message in args:
    if binary:
        ws.send_binary(message.encode())
    else:
        ws.send(message)
    opcode, data = ws.recv_data()
    text = data.decode() if isinstance(data, bytes) else data
    print(("B " if opcode == websocket.ABNF.OPCODE_BINARY else "T ") + text.strip(), flush=True)
ws.send_close()
print("closed", flush=True)
