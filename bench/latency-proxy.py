#!/usr/bin/env python3
"""A TCP proxy that adds a fixed one-way delay in each direction, as a cluster in another
region has: bench/run's fleet part puts one before each control plane, so that the clusters
are as far away as real ones and asking them at once can show. Bytes pass untouched (TLS
included); each chunk is held `delay` then written, in order, without slowing the stream.

    latency-proxy.py UPSTREAM_PORT DELAY_MS PORT_FILE

Listens on 127.0.0.1 (a free port, written to PORT_FILE once listening) and forwards to
127.0.0.1:UPSTREAM_PORT until killed.
"""

import asyncio
import sys


async def pipe(reader, writer, delay):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def read():
        while True:
            chunk = await reader.read(65536)
            await queue.put((loop.time() + delay, chunk))
            if not chunk:
                return

    async def write():
        while True:
            due, chunk = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not chunk:
                writer.close()
                return
            writer.write(chunk)
            await writer.drain()

    try:
        await asyncio.gather(read(), write())
    except (ConnectionError, OSError):
        writer.close()


async def main():
    upstream, delay, port_file = int(sys.argv[1]), int(sys.argv[2]) / 1000.0, sys.argv[3]

    async def serve(client_reader, client_writer):
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            pipe(client_reader, up_writer, delay), pipe(up_reader, client_writer, delay)
        )

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    with open(port_file, "w") as f:
        f.write(str(server.sockets[0].getsockname()[1]))
    async with server:
        await server.serve_forever()


asyncio.run(main())
